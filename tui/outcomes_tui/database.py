"""Database access for the dashboard: one connection per thread.

sqlite3 connections must not be used by two threads at once, so every worker thread gets its own
connection (opened lazily, with the app's usual pragmas) and writes are serialised by SQLite's
own lock (``BEGIN IMMEDIATE`` with a busy timeout).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from sqlite_utils import Database

from outcomes.db import connect


class Connections:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[Database] = []
        self._lock = threading.Lock()

    def get(self) -> Database:
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def close_all(self) -> None:
        with self._lock:
            for db in self._all:
                # Closing at exit: nothing useful to report if it fails.
                with contextlib.suppress(Exception):
                    db.close()
            self._all.clear()
