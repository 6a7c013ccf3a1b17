"""CSV import and export: errors that point at file/line/column, all-or-nothing, idempotence."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest
from sqlite_utils import Database

from outcomes.errors import ValidationError
from outcomes.importing.csvfile import CsvError
from outcomes.importing.exporter import export_text
from outcomes.importing.importer import ImportFailed, run_import
from outcomes.importing.kinds import KINDS
from tests.conftest import DEMO_TODAY

PARTNERS = """name,npi,kind,organization,phone,state,zip
Dr. Ada Lovelace,1234567893,PCP,Analytical Family Medicine,(503) 555-0100,OR,97201
Dr. Grace Hopper,1245319599,ortho,Cobol Orthopedics,,OR,97202
Smith & Jones LLP,,attorney,Smith & Jones,,OR,
"""

REFERRALS = """episode_id,patient_id,partner_npi,referral_date,body_region,diagnosis,first_visit_date,discharge_date,visits,discharge_reason,clinician
E1,MRN1,1234567893,2026-01-05,lumbar,M54.50,2026-01-08,2026-02-20,8,goals met,PT A
E2,MRN2,1245319599,01/10/2026,knee,M17.11,2026-01-12,,,,PT B
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def count(db: Database, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def clinic(db: Database, tmp_path: Path) -> Database:
    run_import(db, "partners", write(tmp_path, "partners.csv", PARTNERS), today=DEMO_TODAY)
    run_import(db, "referrals", write(tmp_path, "referrals.csv", REFERRALS), today=DEMO_TODAY)
    return db


def test_import_normalises_and_counts(clinic: Database) -> None:
    kinds = [r[0] for r in clinic.execute("SELECT kind FROM partners ORDER BY id")]
    assert kinds == ["primary care", "orthopedic surgeon", "personal-injury attorney"]
    e1 = clinic.execute("SELECT body_region, status, visits FROM episodes WHERE id='E1'").fetchone()
    assert e1 == ("low back", "discharged", 8)
    assert clinic.execute("SELECT referral_date FROM episodes WHERE id='E2'").fetchone()[0] == \
        "2026-01-10"


def test_reimport_changes_nothing(clinic: Database, tmp_path: Path) -> None:
    before = {t: count(clinic, t) for t in ("partners", "episodes", "patients")}
    report = run_import(clinic, "partners", tmp_path / "partners.csv", today=DEMO_TODAY)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 3)
    report = run_import(clinic, "referrals", tmp_path / "referrals.csv", today=DEMO_TODAY)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)
    assert {t: count(clinic, t) for t in before} == before


def test_one_bad_row_imports_nothing_and_names_line_and_column(
        db: Database, tmp_path: Path) -> None:
    bad = PARTNERS + "Dr. Typo,1234567890,pcp,,,,\n"
    with pytest.raises(ImportFailed) as failed:
        run_import(db, "partners", write(tmp_path, "p.csv", bad), today=DEMO_TODAY)
    (error,) = failed.value.report.errors
    assert (error.line, error.column) == (5, "npi")
    assert "check digit" in error.message
    assert str(tmp_path / "p.csv") in str(error)
    assert count(db, "partners") == 0


def test_skip_invalid_writes_good_rows_and_a_private_rejects_file(
        db: Database, tmp_path: Path) -> None:
    bad = PARTNERS + "Dr. Typo,1234567890,pcp,,,,\nDr. Nokind,,,,,,\n"
    report = run_import(db, "partners", write(tmp_path, "p.csv", bad), skip_invalid=True,
                        today=DEMO_TODAY)
    assert count(db, "partners") == 3
    assert len(report.errors) == 2
    rejects = Path(report.rejects_file or "")
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    rows = list(csv.DictReader(rejects.open()))
    assert [r["name"] for r in rows] == ["Dr. Typo", "Dr. Nokind"]
    assert [r["line"] for r in rows] == ["5", "6"]


def test_dry_run_writes_nothing(db: Database, tmp_path: Path) -> None:
    report = run_import(db, "partners", write(tmp_path, "p.csv", PARTNERS), dry_run=True,
                        today=DEMO_TODAY)
    assert report.rows == 3 and not report.written
    assert count(db, "partners") == 0 and count(db, "audit_log") == 0


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("E3,MRN3,1234567893,2027-01-05,knee,,,,,,", "referral_date", "future"),  # future
        ("E3,MRN3,1234567893,3/4/26,knee,,,,,,", "referral_date", "four-digit year"),
        ("E3,MRN3,1234567893,2026-02-30,knee,,,,,,", "referral_date", "not a real date"),
        ("E3,MRN3,1234567893,2026-01-05,elbowish,,,,,,", "body_region", "body region"),
        ("E3,MRN3,1234567893,2026-01-05,knee,XYZ,,,,,", "diagnosis", "ICD-10"),
        ("E3,MRN3,1999999999,2026-01-05,knee,,,,,,", "partner_npi", "no partner"),
        ("E3,MRN3,1234567893,2026-01-05,knee,,2026-01-01,,,,", None, "before referral"),
        ("E3,MRN3,1234567893,2026-01-05,knee,,,,many,,", "visits", "whole number"),
        ("E1,MRN3,1234567893,2026-01-05,knee,,,,,,,,,,", None, "cells"),
    ],
)
def test_referral_row_errors(clinic: Database, tmp_path: Path, row: str, column: str | None,
                             fragment: str) -> None:
    header = "episode_id,patient_id,partner_npi,referral_date,body_region,diagnosis," \
             "first_visit_date,discharge_date,visits,discharge_reason,clinician\n"
    path = write(tmp_path, "r.csv", header + row + "\n")
    with pytest.raises(ImportFailed) as failed:
        run_import(clinic, "referrals", path, today=DEMO_TODAY)
    (error,) = failed.value.report.errors
    assert error.line == 2
    assert error.column == column
    assert fragment in error.message


def test_duplicate_key_in_one_file_is_an_error(db: Database, tmp_path: Path) -> None:
    text = PARTNERS + "Dr. Ada Again,1234567893,pcp,,,,\n"
    with pytest.raises(ImportFailed) as failed:
        run_import(db, "partners", write(tmp_path, "p.csv", text), today=DEMO_TODAY)
    assert "line 2" in failed.value.report.errors[0].message


def test_header_problems(db: Database, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="column 'colour'"):
        run_import(db, "partners", write(tmp_path, "a.csv", "name,kind,colour\nx,pcp,red\n"))
    with pytest.raises(ValidationError, match="kind column is missing"):
        run_import(db, "partners", write(tmp_path, "b.csv", "name\nx\n"))
    with pytest.raises(CsvError, match="empty"):
        run_import(db, "partners", write(tmp_path, "c.csv", ""))
    with pytest.raises(CsvError, match="NUL"):
        run_import(db, "partners", write(tmp_path, "d.csv", "name,kind\nx\x00,pcp\n"))
    with pytest.raises(CsvError, match="does not exist"):
        run_import(db, "partners", tmp_path / "missing.csv")


def test_bom_and_windows_1252_files(db: Database, tmp_path: Path) -> None:
    text = "Name,KIND,Organization\nDr. José Núñez,PCP,Clínica Sur\n"
    run_import(db, "partners", write(tmp_path, "bom.csv", "\ufeff" + text))
    report = run_import(db, "partners", write(tmp_path, "latin.csv", text, "cp1252"))
    assert report.encoding == "windows-1252"
    assert report.unchanged == 1  # same partner, read the same way from both files
    assert db.execute("SELECT name FROM partners").fetchone()[0] == "Dr. José Núñez"


RESPONSES = """episode_id,instrument,timepoint,date,answers,score
E1,odi,intake,2026-01-08,3;3;2;2;3;2;2;3;2;2,
E1,odi,discharge,2026-02-20,1;1;1;0;1;1;0;1;-;1,
E2,koos_jr,intake,2026-01-12,,60.5
"""


def test_responses_import_scores_and_summarises(clinic: Database, tmp_path: Path) -> None:
    report = run_import(clinic, "responses", write(tmp_path, "r.csv", RESPONSES),
                        today=DEMO_TODAY)
    assert report.added == 3
    outcome = clinic.execute(
        "SELECT intake_score, final_score, improvement, mcid_met FROM episode_outcomes"
        " WHERE episode_id = 'E1' AND scale = 'odi'").fetchone()
    assert outcome == (48.0, pytest.approx(700 / 45), pytest.approx(48 - 700 / 45), 1)
    assert clinic.execute("SELECT score_only FROM responses WHERE episode_id='E2'").fetchone() \
        == (1,)
    again = run_import(clinic, "responses", tmp_path / "r.csv", today=DEMO_TODAY)
    assert (again.added, again.updated) == (0, 0)


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("E1,odi,intake,2026-01-08,3;3;9;2;3;2;2;3;2;2,", "answers", "item 3"),
        ("E1,odi,intake,2026-01-08,3;3;x;2;3;2;2;3;2;2,", "answers", "answer 3"),
        ("E1,odi,intake,2026-01-08,3;3;2,", "answers", "10 answers"),
        ("E1,odx,intake,2026-01-08,3;3;2,", "instrument", "odx"),
        ("E1,odi,someday,2026-01-08,1;1;1;1;1;1;1;1;1;1,", "timepoint", "timepoint"),
        ("E9,odi,intake,2026-01-08,1;1;1;1;1;1;1;1;1;1,", "episode_id", "not on file"),
        ("E2,koos_jr,intake,2026-01-12,,101", "score", "outside"),
        ("E2,promis10,intake,2026-01-12,,40", "score", "scales"),
    ],
)
def test_response_row_errors(clinic: Database, tmp_path: Path, row: str, column: str,
                             fragment: str) -> None:
    path = write(tmp_path, "r.csv", "episode_id,instrument,timepoint,date,answers,score\n"
                 + row + "\n")
    with pytest.raises(ImportFailed) as failed:
        run_import(clinic, "responses", path, today=DEMO_TODAY)
    (error,) = failed.value.report.errors
    assert (error.line, error.column) == (2, column)
    assert fragment.lower() in error.message.lower(), error.message
    assert count(clinic, "responses") == 0


def test_nps_rows_with_and_without_episode(clinic: Database, tmp_path: Path) -> None:
    text = "episode_id,date,score,comment\nE1,2026-02-20,10,Great\n,2026-02-21,3,\"=cmd|' /C calc'!A0\"\n"
    report = run_import(clinic, "nps", write(tmp_path, "n.csv", text), today=DEMO_TODAY)
    assert report.added == 2
    exported = export_text(clinic, "nps", "csv")
    cells = [row["comment"] for row in csv.DictReader(io.StringIO(exported))]
    assert "'=cmd|' /C calc'!A0" in cells  # neutralised for spreadsheets
    again = run_import(clinic, "nps", write(tmp_path, "n2.csv", exported), today=DEMO_TODAY)
    assert again.added == 0 and again.unchanged == 2  # and it re-imports as the same rows


@pytest.mark.parametrize("kind", list(KINDS))
def test_demo_export_reimports_unchanged(demo_db: Database, tmp_path: Path, kind: str) -> None:
    before = export_text(demo_db, kind, "csv")
    path = write(tmp_path, f"{kind}.csv", before)
    report = run_import(demo_db, kind, path, today=DEMO_TODAY)
    assert report.added == 0 and report.updated == 0, report.summary()
    assert export_text(demo_db, kind, "csv") == before


def test_every_exported_cell_is_neutralised(demo_db: Database) -> None:
    demo_db.execute("UPDATE partners SET notes = '@SUM(A1)' WHERE id = 1")
    demo_db.execute("UPDATE partners SET organization = '+1 555' WHERE id = 2")
    text = export_text(demo_db, "partners", "csv")
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
