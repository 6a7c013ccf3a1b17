"""The audit log: chained rows that `outcomes audit verify` checks, the actor from the account,
the log's commands, and every read that copies data out logged."""

from __future__ import annotations

import csv
import itertools
import json
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.store import audit
from outcomes.store.database import open_db

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "schemas"


def outcomes(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from outcomes.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def write_rows(db: Database, n: int) -> None:
    for i in range(n):
        audit.log(db, "update", "settings", key=f"x_{i}", value=i)


def raw(path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    """A change made behind the app's back, with the sqlite3 shell's powers."""
    conn = sqlite3.connect(path)
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_a_clean_log_verifies_and_each_row_links_to_the_previous(db: Database) -> None:
    write_rows(db, 5)
    rows = audit.entries(db)
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    verdict = audit.verify(db)
    assert verdict.ok and verdict.rows == 5 and verdict.head == rows[-1].hash


@pytest.mark.parametrize(("tamper", "expected"), [
    # a row deleted in the middle: the next row no longer follows its predecessor
    ("DELETE FROM audit_log WHERE id = 3", "row 4: does not follow row 2"),
    # the first row deleted: the chain no longer starts at the beginning
    ("DELETE FROM audit_log WHERE id = 1", "row 2: does not start the chain"),
    # a detail changed (hiding which file was imported)
    ("UPDATE audit_log SET detail = '{\"key\": \"clinic_name\"}' WHERE id = 2",
     "row 2: content altered"),
    # the actor changed (blaming someone else)
    ("UPDATE audit_log SET actor = 'frontdesk' WHERE id = 4", "row 4: content altered"),
    # a row inserted at the end with a made-up hash
    ("INSERT INTO audit_log (id, at, action, entity, detail, actor, prev_hash, hash) SELECT 6,"
     " at, 'delete', 'partners', '{}', actor, hash, hash FROM audit_log WHERE id = 5",
     "row 6: content altered"),
    # a row inserted without a hash at all (written with plain SQL)
    ("INSERT INTO audit_log (at, action, entity, detail) VALUES ('2026-01-01', 'add', 'x', '{}')",
     "row 6: has no hash"),
    # a row renumbered to hide a gap
    ("UPDATE audit_log SET id = 9 WHERE id = 5", "row 9: follows row 4: renumbered"),
])
def test_verify_finds_a_deleted_inserted_or_altered_row(db_path: Path, tamper: str,
                                                        expected: str) -> None:
    db = open_db(db_path)
    write_rows(db, 5)
    db.close()
    raw(db_path, tamper)
    verdict = audit.verify(open_db(db_path))
    assert not verdict.ok
    assert expected in [str(p)[:len(expected)] for p in verdict.problems], verdict.problems


def test_a_row_inserted_with_a_correct_hash_breaks_the_next_link(db_path: Path) -> None:
    """Someone who computes a valid hash for a forged row still breaks the row after it."""
    db = open_db(db_path)
    write_rows(db, 3)
    first = audit.entries(db)[0]
    db.close()
    raw(db_path, "UPDATE audit_log SET id = -id WHERE id > 1")  # make room after row 1
    raw(db_path, "UPDATE audit_log SET id = 1 - id WHERE id < 0")
    forged = ("2026-01-01T00:00:00+00:00", "delete", "partners", "{}", "root")
    digest = audit.row_hash(first.hash or "", 2, *forged)
    raw(db_path, "INSERT INTO audit_log VALUES (2, ?, ?, ?, ?, ?, ?, ?)",
        (*forged, first.hash, digest))
    problems = [str(p) for p in audit.verify(open_db(db_path)).problems]
    assert problems and problems[0].startswith("row 3: does not follow row 2")


@settings(max_examples=30, deadline=None)
@given(details=st.lists(st.text(max_size=30), min_size=1, max_size=8),
       victim=st.integers(min_value=0, max_value=7), new=st.text(min_size=1, max_size=5))
def test_any_single_change_is_found(details: list[str], victim: int, new: str) -> None:
    """Property: changing any field of any one row of a chain breaks verification."""
    prev, rows = audit.GENESIS, []
    for i, detail in enumerate(details, start=1):
        fields = ("2026-11-22T00:00:00+00:00", "add", "partners", json.dumps(detail), "pt")
        digest = audit.row_hash(prev, i, *fields)
        rows.append(audit.Entry(i, *fields, prev, digest))
        prev = digest
    assert audit.verify_entries(rows).ok
    i = victim % len(rows)
    changed = rows[i].detail + new
    rows[i] = audit.Entry(**{**rows[i].as_dict(), "detail": changed})
    assert not audit.verify_entries(rows).ok


def test_actor_is_the_operating_system_account_not_user(db: Database,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "someone-else")
    monkeypatch.setenv("LOGNAME", "someone-else")
    audit.actor.cache_clear()
    try:
        audit.log(db, "update", "settings", key="x")
    finally:
        audit.actor.cache_clear()
    assert audit.entries(db)[-1].actor == pwd.getpwuid(os.geteuid()).pw_name


def test_upgrade_hashes_the_existing_rows(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    shutil.copy(FIXTURES / "v3.db", path)
    db = open_db(path)
    rows = audit.entries(db)
    assert [(r.id, r.actor) for r in rows] == [(1, "frontdesk"), (2, "frontdesk")]
    assert audit.verify(db).ok and all(r.hash for r in rows)
    audit.log(db, "update", "settings", key="x")  # new rows extend the migrated chain
    assert audit.verify(db).ok


def test_export_backup_and_audit_export_are_logged(demo_db_path: Path, tmp_path: Path) -> None:
    db_args = ("--db", str(demo_db_path))
    assert outcomes(*db_args, "export", "partners", "-o", str(tmp_path / "p.csv")).returncode == 0
    assert outcomes(*db_args, "export", "referrals").returncode == 0  # to stdout
    assert outcomes(*db_args, "backup", str(tmp_path / "b.db")).returncode == 0
    out = tmp_path / "audit.csv"
    assert outcomes(*db_args, "audit", "export", "-o", str(out)).returncode == 0
    listed = outcomes(*db_args, "audit", "list", "--json", "--limit", "4")
    rows = json.loads(listed.stdout)
    assert [(r["action"], r["entity"]) for r in rows] == [
        ("export", "partners"), ("export", "referrals"), ("backup", "all"),
        ("export", "audit_log")]
    assert json.loads(rows[1]["detail"])["file"] == "stdout"
    assert json.loads(rows[2]["detail"])["file"] == str((tmp_path / "b.db").resolve())
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open(newline="") as fh:
        exported = list(csv.DictReader(fh))
    assert exported[-1]["action"] == "backup" and len(exported[-1]["hash"]) == 64
    assert outcomes(*db_args, "audit", "verify").stdout.startswith("Audit log intact:")


def test_audit_list_filters(db_path: Path) -> None:
    db = open_db(db_path)
    write_rows(db, 3)
    audit.log(db, "add", "partners", id=1)
    db.execute("UPDATE audit_log SET at = '2025-01-01T00:00:00+00:00' WHERE id = 1")
    db.close()
    args = ("--db", str(db_path), "audit", "list", "--json")
    ids = lambda *more: [r["id"] for r in json.loads(outcomes(*args, *more).stdout)]  # noqa: E731
    assert ids() == [1, 2, 3, 4]
    assert ids("--entity", "partners") == [4]
    assert ids("--since", "2026-01-01") == [2, 3, 4]
    assert ids("--limit", "2") == [3, 4]
    bad = outcomes(*args, "--limit", "0")
    assert bad.returncode == 2 and "--limit" in bad.stderr


def test_audit_verify_exits_1_and_names_the_row(db_path: Path) -> None:
    db = open_db(db_path)
    write_rows(db, 3)
    db.close()
    raw(db_path, "DELETE FROM audit_log WHERE id = 2")
    result = outcomes("--db", str(db_path), "audit", "verify")
    assert result.returncode == 1
    assert "row 3: does not follow row 1" in result.stderr and "Audit log broken" in result.stderr


def test_audit_list_shows_escape_sequences_as_text(db: Database, db_path: Path) -> None:
    audit.log(db, "import", "partners\x1b[2J", file="\x1b]0;owned\x07evil\u202e.csv")
    listed = outcomes("--db", str(db_path), "audit", "list").stdout
    assert "\x1b" not in listed and "\u202e" not in listed and "\x07" not in listed
    assert "partners\\x1b[2J" in listed and "]0;owned" in listed
