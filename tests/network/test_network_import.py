"""Import error paths for partners, referrals, touchpoints and outbound: each names file, line
and column and imports nothing; --skip-invalid writes rejects; re-imports change nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlite_utils import Database

from outcomes.errors import ValidationError
from outcomes.importing.exporter import export_text
from outcomes.importing.importer import ImportFailed, run_import

TODAY = date(2026, 6, 15)
NPI_A, NPI_B = "1234567893", "1000000020"

PARTNERS = (
    "name,npi,kind,organization,phone,fax,email,address,city,state,zip,stage,notes\n"
    f"Dr. Ana Lee,{NPI_A},PCP,Lee Family,503-555-0100,503-555-0101,ana@example.org,"
    "1 Main St,Portland,OR,97201,active,\n"
    f"Dr. Ben Ray,{NPI_B},ortho,Cascade,,,,,,,,,\n"
    "Morgan & Pike,,attorney,,,,,,,,,,\n"
)
REFERRALS = (
    "episode_id,patient_id,partner_npi,partner,referral_date,body_region,diagnosis,"
    "first_visit_date,discharge_date,visits,discharge_reason,clinician\n"
    f"E1,MRN1,{NPI_A},,2026-03-02,lumbar,M54.50,2026-03-05,2026-04-20,8,goals met,AM\n"
    ",MRN2,,Morgan & Pike,03/04/2026,neck,S13.4XXA,,,,,\n"
)
TOUCHPOINTS = (
    "partner_npi,partner,date,method,summary,amount,next_follow_up\n"
    f"{NPI_A},,2026-03-01,call,Check-in,,2026-04-01\n"
    ",Morgan & Pike,2026-03-02,lunch,Lunch and learn,$85.00,\n"
)
OUTBOUND = (
    "episode_id,partner_npi,partner,date,reason\n"
    f"E1,{NPI_B},,2026-03-20,Surgical consult: no progress after 8 visits\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def clinic(db: Database, tmp_path: Path) -> Database:
    run_import(db, "partners", write(tmp_path, "p.csv", PARTNERS), today=TODAY)
    # Second referral row has no episode id in REFERRALS on purpose elsewhere; import the first.
    run_import(db, "referrals", write(tmp_path, "r.csv", REFERRALS.splitlines(True)[0]
                                      + REFERRALS.splitlines(True)[1]), today=TODAY)
    return db


def counts(db: Database) -> tuple[int, ...]:
    return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("partners", "episodes", "touchpoints", "outbound_referrals"))


# (kind, header+row text, line, column, message fragment)
ROW_ERRORS = [
    ("partners", "name,npi,kind\nDr. X,1234567890,pcp\n", 2, "npi", "check digit"),
    ("partners", "name,npi,kind\nDr. X,,dentist\n", 2, "kind", "not a known partner kind"),
    ("partners", "name,npi,kind,state\nDr. X,,pcp,Oregon\n", 2, "state", "two-letter"),
    ("partners", f"name,npi,kind\nDr. X,{NPI_A},pcp\nDr. Y,{NPI_A},pcp\n", 3, None,
     "same partner"),
    ("partners", "name,npi,kind\nDr. X,,pcp,extra\n", 2, None, "has 4 cells"),
    ("referrals", "episode_id,patient_id,partner_npi,referral_date,body_region\n"
     "E9,M9,1111111111,2026-03-02,knee\n", 2, "partner_npi", "no partner with NPI"),
    ("referrals", "episode_id,patient_id,partner,referral_date,body_region\n"
     "E9,M9,Dr. Nobody,2026-03-02,knee\n", 2, "partner", "no partner named"),
    ("referrals", "episode_id,patient_id,referral_date,body_region\n"
     "E9,M9,2026-02-30,knee\n", 2, "referral_date", "not a real date"),
    ("referrals", "episode_id,patient_id,referral_date,body_region\n"
     "E9,M9,2030-01-01,knee\n", 2, "referral_date", "in the future"),
    ("referrals", "episode_id,patient_id,referral_date,body_region\n"
     "E9,M9,13/04/2026,knee\n", 2, "referral_date", "day-first"),
    ("referrals", "episode_id,patient_id,referral_date,body_region\n"
     "E9,M9,3/4/26,knee\n", 2, "referral_date", "four-digit year"),
    ("referrals", "episode_id,patient_id,referral_date,body_region\n"
     "E9,M9,2026-03-02,kneecap\n", 2, "body_region", "not a known body region"),
    ("referrals", "episode_id,patient_id,referral_date,body_region,diagnosis\n"
     "E9,M9,2026-03-02,knee,knee pain\n", 2, "diagnosis", "ICD-10-CM"),
    ("referrals", "episode_id,patient_id,referral_date,body_region\n"
     "E9,M9,2026-03-02,knee\nE9,M8,2026-03-03,hip\n", 3, None, "same episode_id"),
    ("touchpoints", "partner_npi,date,method\n1111111112,2026-03-01,call\n", 2, "partner_npi",
     "no partner with NPI"),
    ("touchpoints", f"partner_npi,date,method\n{NPI_A},2026-03-01,pigeon\n", 2, "method",
     "not a known touchpoint method"),
    ("touchpoints", f"partner_npi,date,method,amount\n{NPI_A},2026-03-01,lunch,lots\n", 2,
     "amount", "not a number"),
    ("touchpoints", f"partner_npi,date,method\n{NPI_A},2026-13-01,call\n", 2, "date",
     "not a real date"),
    ("touchpoints", f"partner_npi,date,method\n{NPI_A},2026-03-01,call\n"
     f"{NPI_A},2026-03-01,phone\n", 3, None, "same partner, date, method"),
    ("outbound", f"episode_id,partner_npi,date,reason\nE1,{NPI_B},2026-03-20,\n", 2,
     "reason", "reason"),
    ("outbound", f"episode_id,partner_npi,date,reason\nE404,{NPI_B},2026-03-20,MRI\n", 2,
     "episode_id", "not on file"),
    ("outbound", "episode_id,partner,date,reason\nE1,Dr. Nobody,2026-03-20,MRI\n", 2,
     "partner", "no partner named"),
]


@pytest.mark.parametrize(("kind", "text", "line", "column", "fragment"), ROW_ERRORS)
def test_row_errors_name_file_line_column_and_import_nothing(
        clinic: Database, tmp_path: Path, kind: str, text: str, line: int,
        column: str | None, fragment: str) -> None:
    before = counts(clinic)
    path = write(tmp_path, f"bad-{kind}.csv", text)
    with pytest.raises(ImportFailed) as info:
        run_import(clinic, kind, path, today=TODAY)
    errors = info.value.report.errors
    assert len(errors) >= 1
    error = errors[-1] if line > 2 else errors[0]
    assert error.file == str(path)
    assert (error.line, error.column) == (line, column)
    assert fragment in error.message
    assert str(path) in str(info.value)
    assert counts(clinic) == before


@pytest.mark.parametrize(("kind", "header", "fragment"), [
    ("partners", "name,npi\n", "the kind column is missing"),
    ("partners", "name,npi,kind,favourite_colour\n", "not a column of partners"),
    ("referrals", "episode_id,patient_id,body_region\n", "referral_date column is missing"),
    ("touchpoints", "date,method\n", "partner_npi or partner column is missing"),
    ("outbound", "partner_npi,date\n", "reason column is missing"),
    ("partners", "name,kind,type\n", "both mean kind"),
])
def test_header_errors(clinic: Database, tmp_path: Path, kind: str, header: str,
                       fragment: str) -> None:
    before = counts(clinic)
    path = write(tmp_path, "h.csv", header + "x,y,z\n")
    with pytest.raises(ValidationError) as info:
        run_import(clinic, kind, path, today=TODAY)
    assert fragment in str(info.value) and "line 1" in str(info.value)
    assert counts(clinic) == before


def test_skip_invalid_writes_a_private_rejects_file(clinic: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "partner_npi,date,method,summary\n"
                 f"{NPI_A},2026-03-03,call,ok\n{NPI_A},2026-03-04,pigeon,bad\n")
    report = run_import(clinic, "touchpoints", path, skip_invalid=True, today=TODAY)
    assert report.added == 1 and len(report.errors) == 1
    rejects = Path(report.rejects_file or "")
    assert rejects.stat().st_mode & 0o777 == 0o600
    lines = rejects.read_text().splitlines()
    assert lines[0] == "partner_npi,date,method,summary,line,error"
    assert lines[1].startswith(f"{NPI_A},2026-03-04,pigeon,bad,3,")


@pytest.mark.parametrize(("kind", "text"), [
    ("partners", PARTNERS), ("touchpoints", TOUCHPOINTS), ("outbound", OUTBOUND),
])
def test_reimport_and_export_roundtrip_change_nothing(
        clinic: Database, tmp_path: Path, kind: str, text: str) -> None:
    path = write(tmp_path, f"{kind}.csv", text)
    run_import(clinic, kind, path, today=TODAY)
    before = counts(clinic)
    again = run_import(clinic, kind, path, today=TODAY)
    assert again.added == 0 and again.updated == 0
    exported = write(tmp_path, f"{kind}-export.csv", export_text(clinic, kind, "csv"))
    back = run_import(clinic, kind, exported, today=TODAY)
    assert back.added == 0 and back.updated == 0
    assert counts(clinic) == before
    assert export_text(clinic, kind, "csv") == exported.read_text()


def test_referrals_reimport_and_roundtrip(clinic: Database, tmp_path: Path) -> None:
    text = REFERRALS.replace(",MRN2,", "E2,MRN2,")
    path = write(tmp_path, "r2.csv", text)
    first = run_import(clinic, "referrals", path, today=TODAY)
    assert first.added == 1
    again = run_import(clinic, "referrals", path, today=TODAY)
    assert (again.added, again.updated) == (0, 0)
    exported = write(tmp_path, "r-export.csv", export_text(clinic, "referrals", "csv"))
    back = run_import(clinic, "referrals", exported, today=TODAY)
    assert (back.added, back.updated) == (0, 0)
    status = dict(clinic.execute("SELECT id, status FROM episodes").fetchall())
    assert status == {"E1": "discharged", "E2": "received"}
