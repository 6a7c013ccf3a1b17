"""Backup and restore: consistent, private copies; restores that check before replacing."""

from __future__ import annotations

import json
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


def test_backup_killed_midway_leaves_no_file_under_the_real_name(demo_db_path: Path,
                                                                 tmp_path: Path) -> None:
    """SIGKILL while pages are being copied: only a hidden .part file may remain, and the real
    name does not exist, so a half backup is never taken for a whole one."""
    import signal
    import subprocess
    import sys

    dest = tmp_path / "backups" / "outcomes.db"
    script = (
        "import sys, time\n"
        "from outcomes.store import backup as b\n"
        "from outcomes.store.database import open_db\n"
        "b.PAGES_PER_STEP = 1\n"
        "def progress(done, total):\n"
        "    if done == 5:\n"
        "        print('copying', done, total, flush=True)\n"
        "        time.sleep(600)\n"
        "b.backup(open_db(sys.argv[1]), sys.argv[2], progress=progress)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(demo_db_path), str(dest)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the copy is under way: 5 pages written
        assert line.startswith("copying 5 "), line
        assert int(line.split()[2]) > 100
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not dest.exists()
    leftovers = list(dest.parent.iterdir())
    assert leftovers and all(p.name.startswith(".outcomes.db.") and ".part" in p.name
                             for p in leftovers), leftovers
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in leftovers)
    # The next backup to the same name works.
    db = open_db(demo_db_path)
    backup(db, dest)
    assert counts(dest) == counts(demo_db_path)


def test_a_damaged_database_is_not_backed_up(demo_db_path: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from outcomes.store import database
    from tests.store.test_open_checks import corrupt_a_page

    monkeypatch.setattr(database, "QUICK_CHECK_MAX_BYTES", 0)  # large: not checked at open
    corrupt_a_page(demo_db_path)
    db = open_db(demo_db_path)
    with pytest.raises(database.DamagedDatabase, match="is damaged"):
        backup(db, tmp_path / "copy.db")
    assert list(tmp_path.glob("*copy.db*")) == []


def test_restore_keeps_audit_rows_written_after_the_backup(
        demo_db: Database, demo_db_path: Path, tmp_path: Path) -> None:
    from outcomes.store import audit, settings

    settings.set_value(demo_db, "clinic_name", "Before")
    saved = backup(demo_db, tmp_path / "saved.db")
    settings.set_value(demo_db, "clinic_name", "After")
    audit.log(demo_db, "export", "partners", file="stdout")
    after_backup = [(e.action, e.entity, e.detail) for e in audit.entries(demo_db)][-3:]
    assert after_backup[0][0] == "backup"
    demo_db.close()
    result = restore(demo_db_path, saved)
    assert result.carried_over == 3
    db = open_db(demo_db_path)
    assert settings.get(db, "clinic_name") == "Before"  # the data is the backup's
    rows = audit.entries(db)
    assert [(e.action, e.entity, e.detail) for e in rows[-4:-1]] == after_backup
    last = json.loads(rows[-1].detail)
    assert rows[-1].action == "restore" and last["carried_over"] == 3
    assert last["file"] == str(saved.resolve()) and last["kept_aside"] == str(result.kept_aside)
    assert audit.verify(db).ok
    kept = open_db(result.kept_aside)
    assert settings.get(kept, "clinic_name") == "After"


def test_restore_replaces_a_damaged_database(demo_db: Database, demo_db_path: Path,
                                             tmp_path: Path) -> None:
    from outcomes.store import audit
    from tests.store.test_open_checks import corrupt_a_page

    saved = backup(demo_db, tmp_path / "saved.db")
    demo_db.close()
    corrupt_a_page(demo_db_path)
    damaged = demo_db_path.read_bytes()
    result = restore(demo_db_path, saved)
    assert result.replaced_damaged
    assert result.kept_aside.read_bytes() == damaged  # kept byte for byte, for salvage
    assert stat.S_IMODE(result.kept_aside.stat().st_mode) == 0o600
    db = open_db(demo_db_path)  # intact again
    assert counts(demo_db_path) == counts(saved)
    assert audit.entries(db)[-1].action == "restore" and audit.verify(db).ok


def test_restore_of_a_backup_from_before_the_audit_chain(db: Database, db_path: Path,
                                                        tmp_path: Path) -> None:
    """A backup taken by the previous version (schema 3, audit rows without hashes): the rows
    written after it are found by time, the restored log is upgraded and chained, and verifies."""
    import shutil

    from outcomes.store import audit, settings

    old = tmp_path / "v3-backup.db"
    shutil.copy(Path(__file__).resolve().parents[1] / "data" / "schemas" / "v3.db", old)
    settings.set_value(db, "clinic_name", "Now")  # audit rows dated today, after the 2024 ones
    settings.set_value(db, "min_n", 6)
    db.close()
    result = restore(db_path, old)
    assert result.carried_over == 2
    restored = open_db(db_path)
    rows = audit.entries(restored)
    assert [r.action for r in rows] == ["import", "add", "update", "update", "restore"]
    assert [r.actor for r in rows[:2]] == ["frontdesk", "frontdesk"]
    assert audit.verify(restored).ok
    assert settings.get(restored, "clinic_name") == "Fixture PT"
