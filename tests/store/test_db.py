"""Opening the database: creation, safety pragmas, refusals that leave files untouched, upgrades."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from outcomes.errors import DatabaseError
from outcomes.store.database import open_db, transaction
from outcomes.store.schema import SCHEMA_VERSION

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "schemas"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_database_is_private_wal_and_current(db_path: Path) -> None:
    db = open_db(db_path)
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    for table in ("partners", "episodes", "patients", "responses", "nps_responses",
                  "touchpoints", "communications", "outbound_referrals", "settings",
                  "audit_log", "episode_outcomes"):
        assert table in db.table_names()
    assert "referrals" in db.view_names()
    db.execute("INSERT INTO settings VALUES ('x', '1')")
    db.close()
    for suffix in ("-wal", "-shm"):
        side = Path(f"{db_path}{suffix}")
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0


def test_reopening_applies_nothing_and_keeps_data(db_path: Path) -> None:
    db = open_db(db_path)
    db.execute("INSERT INTO settings VALUES ('clinic_name', '\"A\"')")
    db.close()
    db = open_db(db_path)
    assert db.execute("SELECT value FROM settings").fetchone()[0] == '"A"'


def test_non_sqlite_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("patient notes, not a database\n" * 10)
    before = digest(path)
    with pytest.raises(DatabaseError, match="not an SQLite file"):
        open_db(path)
    assert digest(path) == before
    assert not Path(f"{path}-wal").exists()


def test_foreign_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(DatabaseError, match="another application"):
        open_db(path)
    assert digest(path) == before


def test_newer_schema_is_refused_with_its_version(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    open_db(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    conn.close()
    before = digest(path)
    with pytest.raises(DatabaseError, match=f"schema version {SCHEMA_VERSION + 3}"):
        open_db(path)
    assert digest(path) == before


def test_corrupt_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    open_db(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    path.write_bytes(bytes(data))
    with pytest.raises(DatabaseError):
        open_db(path)


UNPRIVILEGED = "outcomes-test"
_AS_USER_SCRIPT = """
import os, sys
from pathlib import Path
from outcomes.errors import DatabaseError
from outcomes.store.database import open_db

base = Path(sys.argv[1])
readonly = base / "readonly.db"
open_db(readonly).close()
readonly.chmod(0o400)
folder = base / "ro"
folder.mkdir(mode=0o500)
for name, path in (("readonly", readonly), ("folder", folder / "x.db")):
    try:
        open_db(path).close()
        print(name, "OPENED")
    except DatabaseError as exc:
        print(name, "REFUSED", exc)
print("writes", os.access(readonly, os.W_OK))
"""


def _unprivileged_command() -> tuple[list[str], int, int]:
    """A command prefix running as an account without root's power to write anywhere: the
    current one when not root; as root (how CI runs), a system account made for the test
    (useradd), else 'nobody', entered with setpriv. Skips, saying why, when none is possible."""
    if os.geteuid() != 0:
        return [], os.getuid(), os.getgid()
    import pwd
    import subprocess

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot drop to an unprivileged account")
    try:
        account = pwd.getpwnam(UNPRIVILEGED)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd:
            subprocess.run([useradd, "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", UNPRIVILEGED], capture_output=True)
        try:
            account = pwd.getpwnam(UNPRIVILEGED)
        except KeyError:
            try:
                account = pwd.getpwnam("nobody")
            except KeyError:
                pytest.skip("running as root, and no unprivileged account could be created")
    return ([setpriv, f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}",
             "--clear-groups"], account.pw_uid, account.pw_gid)


def test_read_only_database_and_unwritable_folder_are_clear_errors_as_a_user() -> None:
    """Run as an unprivileged account (root can write anywhere, so as root these paths were
    never reached): a read-only database file and a folder without write permission end in one
    clear sentence, never a traceback."""
    import subprocess
    import sys
    import tempfile

    prefix, uid, gid = _unprivileged_command()
    # Not under pytest's tmp_path: its parent folder is private to root.
    base = Path(tempfile.mkdtemp(prefix="outcomes-ro-"))
    try:
        os.chown(base, uid, gid)
        env = {**os.environ, "HOME": str(base)}
        probe = subprocess.run([*prefix, sys.executable, "-c", "import outcomes"],
                               capture_output=True, text=True, env=env, timeout=60)
        if probe.returncode != 0:
            pytest.skip(f"the unprivileged account cannot import outcomes: {probe.stderr[-200:]}")
        result = subprocess.run([*prefix, sys.executable, "-c", _AS_USER_SCRIPT, str(base)],
                                capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
        assert lines["writes"] == "False"  # the check really ran without root's powers
        assert lines["readonly"].startswith("REFUSED") and "read-only" in lines["readonly"]
        assert lines["folder"].startswith("REFUSED") and "Cannot" in lines["folder"]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_folder_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DatabaseError, match="Cannot create the folder"):
        open_db(blocker / "sub" / "x.db")


def test_directory_as_db_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="directory"):
        open_db(tmp_path)


def test_transaction_is_all_or_nothing(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), transaction(db):
        db.execute("INSERT INTO settings VALUES ('a', '1')")
        raise RuntimeError("boom")
    assert db.execute("SELECT count(*) FROM settings").fetchone()[0] == 0


TABLES = ("settings", "patients", "partners", "episodes", "outbound_referrals", "touchpoints",
          "communications", "responses", "episode_outcomes", "nps_responses", "audit_log")


def _checksums(path: Path, columns_of_version: dict[str, list[str]]) -> dict[str, tuple]:
    conn = sqlite3.connect(path)
    out = {}
    for table, columns in columns_of_version.items():
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid").fetchall()
        out[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    conn.close()
    return out


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("v*.db")), ids=lambda p: p.stem)
def test_upgrade_from_each_released_version_keeps_every_row(fixture: Path, tmp_path: Path) -> None:
    path = tmp_path / fixture.name
    shutil.copy(fixture, path)
    conn = sqlite3.connect(path)
    old_version = conn.execute("PRAGMA user_version").fetchone()[0]
    columns = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in TABLES}
    conn.close()
    assert old_version < SCHEMA_VERSION
    before = _checksums(path, columns)
    assert all(count > 0 for count, _ in before.values()), "fixture must have data everywhere"
    open_db(path).close()
    assert _checksums(path, columns) == before
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
