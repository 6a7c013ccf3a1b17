"""Connections for a long-lived front end (the dashboard): one connection per thread.

sqlite3 connections must not be used by two threads at once, so every worker thread gets its own
connection (opened lazily, with the app's usual pragmas) and writes are serialised by SQLite's
own lock (``BEGIN IMMEDIATE`` with a busy timeout).

Two kinds per thread: :meth:`Connections.reader` is a plain ``sqlite3`` connection for the
read-only queries of ``outcomes.reports`` (opening it imports nothing, so the first screen never
waits for sqlite-utils, which takes 0.1-0.2 s to import); :meth:`Connections.get` is the
sqlite-utils ``Database`` the core's writers and reports expect.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

from outcomes.store.database import BUSY_TIMEOUT_MS

Reader = sqlite3.Connection
"""A plain read-only connection (what :meth:`Connections.reader` gives)."""


def open_reader(path: Path) -> sqlite3.Connection:
    """A plain read-only connection to ``path`` (``query_only``, the app's busy timeout)."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                           isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    return conn


class Connections:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def get(self) -> Database:
        """This thread's sqlite-utils connection (for the core's writers and reports)."""
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            from outcomes.store.database import connect

            db = connect(self.path)
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def reader(self) -> sqlite3.Connection:
        """This thread's plain read-only connection (for ``outcomes.reports``)."""
        conn: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if conn is None:
            conn = open_reader(self.path)
            self._local.reader = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close_all(self) -> None:
        with self._lock:
            for db in self._all:
                # Closing at exit: nothing useful to report if it fails.
                with contextlib.suppress(Exception):
                    db.close()
            self._all.clear()
