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


SAMPLED_CELLS = ["=1+1", "+cmd", "-2", "@SUM(A1)", "\t", "\r", "[bold]x[/bold]", "\x1b[31m",
                 "1234567893", "2026-01-05", "13/45/2026", "knee", "odi", "intake",
                 "3;3;2;2;3;2;2;3;2;2", "9999999999", "", "\"", "E00001", "10", "-1"]
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]


def cells(encoding: str) -> st.SearchStrategy[str]:
    """Cells the encoding can write: every example is a file that gets imported (an example
    that could not be encoded used to return early and test nothing)."""
    return st.one_of(st.text(st.characters(codec=encoding), max_size=30),
                     st.sampled_from(SAMPLED_CELLS))


@FUZZ
@given(kind=st.sampled_from(list(KINDS)), data=st.binary(max_size=600))
def test_random_bytes(demo_db: Database, tmp_path: Path, kind: str, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(header_for(kind).encode() + b"\n" + data)
    attempt(demo_db, kind, path)


@settings(max_examples=60, deadline=None,
          # Drawing text of a whole codec is slow on a loaded machine; the check is of the
          # importer, not of generation speed.
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(kind=st.sampled_from(list(KINDS)), encoding=st.sampled_from(ENCODINGS), data=st.data())
def test_random_rows_in_any_encoding(demo_db: Database, tmp_path: Path, kind: str,
                                     encoding: str, data: st.DataObject) -> None:
    import csv
    import io

    rows = data.draw(st.lists(st.lists(cells(encoding), min_size=0, max_size=12), max_size=5),
                     label="rows")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.name for c in KINDS[kind].columns])
    writer.writerows(rows)
    path = tmp_path / "rows.csv"
    path.write_bytes(out.getvalue().encode(encoding))  # never fails: cells fit the encoding
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


# Issue 16 input cases, one per failure mode: each must end in one error naming the file, line 2
# and the column, and write nothing.
ISSUE_16_CASES = [
    ("partners", "name,kind\n" + "A" * 99_999 + ",pcp\n", "name", "99,999 characters"),
    ("partners", "name,kind\nDr \x1b]0;pwned\x07A,pcp\n", "name", "control character"),
    ("partners", "name,kind\nDr \x1b]8;;https://x.example/\x1b\\A,pcp\n", "name",
     "control character"),
    ("partners", "name,kind\nDr \x1b[2JA,pcp\n", "name", "control character"),
    ("partners", "name,kind\nDr \u202eA,pcp\n", "name", "control character"),
    ("referrals", "episode_id,patient_id,referral_date,body_region\nE1,M1,0001-01-01,knee\n",
     "referral_date", "before 1990-01-01"),
    ("referrals", "episode_id,patient_id,referral_date,body_region,birth_date\n"
     "E1,M1,2026-01-05,knee,0001-01-01\n", "birth_date", "before 1900-01-01"),
    ("nps", "date,score\n0001-01-01,9\n", "date", "before 1990-01-01"),
    ("nps", "date,score\n2026-01-05,\uff19\n", "score", "digits 0-9"),
    ("nps", "date,score\n2026-01-05,\u0669\n", "score", "digits 0-9"),
    ("nps", "date,score\n\u0662\u0660\u0662\u0666-01-05,9\n", "date", "digits 0-9"),
    ("referrals", "episode_id,patient_id,referral_date,body_region,visits\n"
     "E1,M1,2026-01-05,knee,\u00b2\n", "visits", "digits 0-9"),
    ("referrals", "episode_id,patient_id,referral_date,body_region,visits\n"
     "E1,M1,2026-01-05,knee,\uff15\n", "visits", "digits 0-9"),
]


ISSUE_16_IDS = ["long-name", "osc0", "osc8", "csi-2j", "rlo", "zero-referral-date",
                "zero-birth-date", "zero-nps-date", "fullwidth-nps", "arabic-indic-nps",
                "arabic-indic-date", "superscript-visits", "fullwidth-visits"]


@pytest.mark.parametrize(("kind", "text", "column", "fragment"), ISSUE_16_CASES,
                         ids=ISSUE_16_IDS)
def test_issue_16_input_cases(db: Database, tmp_path: Path, kind: str, text: str, column: str,
                              fragment: str) -> None:
    from outcomes.importing.importer import ImportFailed

    path = tmp_path / "case.csv"
    path.write_text(text, encoding="utf-8")
    before = snapshot(db)
    with pytest.raises(ImportFailed) as failed:
        run_import(db, kind, path, today=DEMO_TODAY)
    (error,) = failed.value.report.errors
    assert (error.line, error.column) == (2, column)
    assert fragment in error.message
    assert str(error).startswith(f"{path}, line 2, column {column}: ")
    assert snapshot(db) == before
