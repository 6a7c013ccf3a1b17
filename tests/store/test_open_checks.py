"""What every open checks: a regular file, owner-only files, the folder, integrity (a deliberately
corrupted page), a crash leftover, and the lock-timeout message."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from outcomes.errors import DatabaseError
from outcomes.store import database
from outcomes.store.database import (
    DamagedDatabase,
    DatabaseBusy,
    check_file,
    open_db,
    transaction,
    wal_left_by_crash,
)


def outcomes(*args: str, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from outcomes.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corrupt_a_page(path: Path, table_or_index: str = "episodes_partner_date") -> int:
    """Overwrite the b-tree page that roots ``table_or_index`` with garbage; return its number."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                        [table_or_index]).fetchone()
    conn.close()
    assert root, f"no {table_or_index} in the schema"
    with path.open("r+b") as fh:
        fh.seek((root[0] - 1) * page_size)
        fh.write(b"\x0d\xff\xff\xff" + bytes(range(256)) * (page_size // 256 - 1))
    return int(root[0])


# --- not a regular file -------------------------------------------------------------------------

def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "clinic.db"
    os.mkfifo(fifo)
    with pytest.raises(DatabaseError, match="named pipe"):
        check_file(fifo)
    with pytest.raises(DatabaseError, match="not a regular file"):
        open_db(fifo)
    # Every command and the dashboard's own start-up path; a hang would hit the timeout.
    for args in (("init",), ("audit", "list"), ()):
        result = outcomes("--db", str(fifo), *args, timeout=60)
        assert result.returncode == 1, result.stderr
        assert "named pipe (FIFO), not a regular file" in result.stderr
        assert "Internal error" not in result.stderr


def test_a_device_is_refused() -> None:
    with pytest.raises(DatabaseError, match="character device"):
        open_db(Path("/dev/null"))


# --- privacy of the files -----------------------------------------------------------------------

def test_precreated_0644_files_are_made_private_at_open(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    path.touch(mode=0o644)
    path.chmod(0o644)  # whatever the umask
    open_db(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # An existing database copied in as 0644 with 0644 companions (another tool, a restore by
    # hand): tightened at the next open, the -wal and -shm too.
    db = open_db(path)
    db.execute("INSERT INTO settings VALUES ('x_a', '1')")
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert name.exists()
        name.chmod(0o644)
    other = open_db(path)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert stat.S_IMODE(name.stat().st_mode) == 0o600, name
    other.close()
    db.close()


def test_a_folder_others_can_read_gives_a_warning(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="outcomes.store"):
        open_db(private / "a.db").close()
    assert caplog.records == []
    with caplog.at_level(logging.WARNING, logger="outcomes.store"):
        open_db(shared / "b.db").close()
    assert len(caplog.records) == 1 and "can be read by other accounts" in caplog.text
    result = outcomes("--db", str(shared / "b.db"), "settings", "show")
    assert result.returncode == 0
    assert result.stderr.startswith("Warning: The folder") and str(shared) in result.stderr
    assert outcomes("--db", str(private / "a.db"), "settings", "show").stderr == ""


# --- integrity --------------------------------------------------------------------------------

def test_a_damaged_small_file_is_refused_with_recovery_steps(demo_db_path: Path,
                                                             tmp_path: Path) -> None:
    corrupt_a_page(demo_db_path)
    before = digest(demo_db_path)
    with pytest.raises(DamagedDatabase, match=r"restore.*sqlite3 .* \.recover"):
        open_db(demo_db_path)
    csv_path = tmp_path / "partners.csv"
    csv_path.write_text("name,kind\nDr. New,primary care\n")
    result = outcomes("--db", str(demo_db_path), "import", "partners", str(csv_path))
    assert result.returncode == 1
    assert "is damaged" in result.stderr and ".recover" in result.stderr
    assert "Internal error" not in result.stderr
    assert digest(demo_db_path) == before  # nothing was written into it


def test_a_large_file_is_checked_after_a_crash_only(demo_db_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "QUICK_CHECK_MAX_BYTES", 0)  # every file counts as large
    corrupt_a_page(demo_db_path)
    open_db(demo_db_path).close()  # large and cleanly closed: not checked at open
    # A program writes and is killed before closing: its -wal file stays behind.
    subprocess.run([sys.executable, "-c",
                    "import os, sqlite3, sys\n"
                    "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                    "c.execute(\"INSERT INTO settings VALUES ('x_crash', '1')\")\n"
                    "os._exit(0)\n", str(demo_db_path)], check=True)
    assert Path(f"{demo_db_path}-wal").stat().st_size > 0
    assert wal_left_by_crash(demo_db_path)
    with pytest.raises(DamagedDatabase):
        open_db(demo_db_path)


def test_a_wal_of_a_running_program_is_not_a_crash(db_path: Path) -> None:
    open_db(db_path).close()
    assert not wal_left_by_crash(db_path)  # closed cleanly: no -wal
    writer = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute(\"INSERT INTO settings VALUES ('x_live', '1')\")\n"
         "print('written', flush=True)\n"
         "sys.stdin.read()\n", str(db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "written\n"
        assert Path(f"{db_path}-wal").stat().st_size > 0
        assert not wal_left_by_crash(db_path)  # the writer still has it open
    finally:
        writer.communicate("")
    assert not Path(f"{db_path}-wal").exists()


# --- the lock -----------------------------------------------------------------------------------

def test_a_lock_held_too_long_is_a_plain_sentence(demo_db_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    holder = sqlite3.connect(demo_db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program in the middle of a long write
    try:
        monkeypatch.setenv("OUTCOMES_BUSY_TIMEOUT_MS", "300")
        db = open_db(demo_db_path)
        with pytest.raises(DatabaseBusy, match="in use by another program"), transaction(db):
            db.execute("INSERT INTO settings VALUES ('x_never', '1')")
        db.close()
        for args in (("settings", "set", "clinic_name", "Locked Out PT"),
                     ("backup", str(demo_db_path.with_name("copy.db")))):
            result = outcomes("--db", str(demo_db_path), *args,
                              env={"OUTCOMES_BUSY_TIMEOUT_MS": "300"})
            assert result.returncode == 1, result
            assert "in use by another program" in result.stderr
            assert "Internal error" not in result.stderr
            assert "OperationalError" not in result.stderr
            assert not demo_db_path.with_name("copy.db").exists()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    result = outcomes("--db", str(demo_db_path), "settings", "set", "clinic_name", "Free PT")
    assert result.returncode == 0, result.stderr


def test_the_dashboard_start_up_path_runs_the_same_checks(demo_db_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`outcomes` alone opens the dashboard without open_db (for speed): it must still make the
    files private before the screen takes over the terminal, and check a small file's integrity
    (once the first screen is up: check_small_file, whose result every write of the dashboard
    waits for, tests/tui/test_integrity_start.py), and a file left by a crash before anything
    reads it."""
    from outcomes.store.database import check_small_file, prepare_existing

    demo_db_path.chmod(0o644)
    prepare_existing(demo_db_path)
    assert stat.S_IMODE(demo_db_path.stat().st_mode) == 0o600
    check_small_file(demo_db_path)
    corrupt_a_page(demo_db_path)
    with pytest.raises(DamagedDatabase):
        check_small_file(demo_db_path)
    prepare_existing(demo_db_path)  # cleanly closed: the check is the dashboard's, not here
    monkeypatch.setattr(database, "wal_left_by_crash", lambda path: True)
    with pytest.raises(DamagedDatabase):
        prepare_existing(demo_db_path)  # a crash's log: checked before anything reads it
    monkeypatch.setattr(database, "QUICK_CHECK_MAX_BYTES", 0)
    check_small_file(demo_db_path)  # a large file: checked after a crash only, as open_db does


def test_the_start_up_path_upgrades_only_what_open_db_would_write_to(tmp_path: Path) -> None:
    """`outcomes` alone goes through open_db only for a file it must create or upgrade first
    (check_file's one read of the header and schema, needs_upgrade): a new or empty file, an
    older schema, or no planner statistics yet."""
    from outcomes.store.database import SCHEMA_VERSION, needs_upgrade

    path = tmp_path / "clinic.db"
    assert check_file(path) is None and needs_upgrade(None)
    path.touch()
    assert needs_upgrade(check_file(path))
    open_db(path).close()
    state = check_file(path)
    assert state is not None and state.user_version == SCHEMA_VERSION and state.has_tables
    assert state.analysed and not needs_upgrade(state)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE sqlite_stat1")
    conn.commit()
    conn.close()
    assert needs_upgrade(check_file(path))
    open_db(path).close()
    assert not needs_upgrade(check_file(path))
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    conn.close()
    assert needs_upgrade(check_file(path))
