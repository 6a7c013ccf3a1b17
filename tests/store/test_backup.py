"""Backup and restore: consistent, private copies; restores that check before replacing."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from sqlite_utils import Database

from outcomes.errors import DatabaseError
from outcomes.store.backup import backup, restore
from outcomes.store.database import open_db


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    out = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
           for t in ("partners", "episodes", "responses", "nps_responses")}
    conn.close()
    return out


def test_backup_is_private_complete_and_refuses_to_overwrite(
        demo_db: Database, demo_db_path: Path, tmp_path: Path) -> None:
    dest = backup(demo_db, tmp_path / "b" / "copy.db")
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert counts(dest) == counts(demo_db_path)
    with pytest.raises(DatabaseError, match="already exists"):
        backup(demo_db, dest)


def test_backup_while_another_connection_writes(demo_db_path: Path, tmp_path: Path) -> None:
    reader = open_db(demo_db_path)
    stop = threading.Event()

    def writer() -> None:
        db = open_db(demo_db_path)
        n = 0
        while not stop.is_set():
            db.execute("INSERT INTO settings VALUES (?, '1')", [f"x_load_{n}"])
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        dest = backup(reader, tmp_path / "live.db")
    finally:
        stop.set()
        thread.join()
    conn = sqlite3.connect(dest)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM episodes").fetchone()[0] > 1000


def test_restore_checks_first_and_keeps_the_old_database(
        demo_db: Database, demo_db_path: Path, tmp_path: Path) -> None:
    saved = backup(demo_db, tmp_path / "saved.db")
    demo_db.execute("DELETE FROM nps_responses")
    demo_db.close()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database")
    with pytest.raises(DatabaseError, match="nothing was restored"):
        restore(demo_db_path, junk)
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="another application"):
        restore(demo_db_path, foreign)
    assert counts(demo_db_path)["nps_responses"] == 0  # untouched by the refused restores
    result = restore(demo_db_path, saved)
    assert counts(demo_db_path) == counts(saved)
    assert counts(result.kept_aside)["nps_responses"] == 0
    assert stat.S_IMODE(result.kept_aside.stat().st_mode) == 0o600
