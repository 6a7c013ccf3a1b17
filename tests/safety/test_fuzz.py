"""Hostile and broken files: every case ends in a clear error or a correct import, never a
traceback and never a partial write."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.errors import OutcomesError
from outcomes.importing.importer import run_import
from outcomes.importing.kinds import KINDS
from outcomes.measures.instruments import load_file
from tests.conftest import DEMO_TODAY

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def snapshot(db: Database) -> str:
    rows = []
    for table in ("partners", "episodes", "patients", "responses", "nps_responses",
                  "touchpoints", "outbound_referrals", "episode_outcomes"):
        rows.append(list(db.execute(f"SELECT * FROM {table} ORDER BY rowid")))
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def attempt(db: Database, kind: str, path: Path) -> None:
    """Import must either succeed or raise a domain error leaving the database as it was."""
    before = snapshot(db)
    try:
        report = run_import(db, kind, path, today=DEMO_TODAY)
    except OutcomesError as exc:
        assert str(exc).strip()
        assert snapshot(db) == before
    else:
        assert report.written and not report.errors


def header_for(kind: str) -> str:
    return ",".join(c.name for c in KINDS[kind].columns)


cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["=1+1", "+cmd", "-2", "@SUM(A1)", "\t", "\r", "[bold]x[/bold]", "\x1b[31m",
                     "1234567893", "2026-01-05", "13/45/2026", "knee", "odi", "intake",
                     "3;3;2;2;3;2;2;3;2;2", "9999999999", "", "\"", "E00001", "10", "-1"]),
)


@FUZZ
@given(kind=st.sampled_from(list(KINDS)), data=st.binary(max_size=600))
def test_random_bytes(demo_db: Database, tmp_path: Path, kind: str, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(header_for(kind).encode() + b"\n" + data)
    attempt(demo_db, kind, path)


@FUZZ
@given(kind=st.sampled_from(list(KINDS)),
       rows=st.lists(st.lists(cells, min_size=0, max_size=16), max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
def test_random_rows_in_any_encoding(demo_db: Database, tmp_path: Path, kind: str,
                                     rows: list[list[str]], encoding: str) -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.name for c in KINDS[kind].columns])
    writer.writerows(rows)
    path = tmp_path / "rows.csv"
    try:
        path.write_bytes(out.getvalue().encode(encoding))
    except UnicodeEncodeError:
        return
    attempt(demo_db, kind, path)


@pytest.mark.parametrize(
    "content",
    [
        b"name,kind\n" + b"x" * 200_000 + b",pcp\n",  # a huge field
        ",".join(f"c{i}" for i in range(1_000_000)).encode() + b"\n",  # a million columns
        b"name,kind\nDr A,pcp\x00\n",  # an embedded NUL
        b"\xff\xfe" + "name,kind\n".encode("utf-16-le"),  # UTF-16 from some exporters
        b"name,kind\n\"unterminated,pcp\n",  # a quote never closed
        b"\n\n\n",  # blank lines only
    ],
    ids=["huge-field", "million-columns", "nul", "utf16", "open-quote", "blank"],
)
def test_hostile_files(db: Database, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "hostile.csv"
    path.write_bytes(content)
    attempt(db, "partners", path)


@FUZZ
@given(text=st.text(max_size=400))
def test_survey_loader_on_random_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "random.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_file(path)
    except OutcomesError as exc:
        assert "random.toml" in str(exc)


@FUZZ
@given(data=st.binary(max_size=300))
def test_survey_loader_on_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bytes.toml"
    path.write_bytes(data)
    try:
        load_file(path)
    except OutcomesError as exc:
        assert "bytes.toml" in str(exc)
