"""Issue 16's CSV cases, one fixture per failure mode: each ends in a clear message naming the
file, the line and (where a cell is at fault) the column, or in a correct store; never a
traceback or "Internal error". Both import engines are held to it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlite_utils import Database

from outcomes.errors import OutcomesError
from outcomes.importing import csvfile
from outcomes.importing.importer import ImportFailed, run_import
from tests.conftest import DEMO_TODAY

ENGINES = ["bulk", "rows"]


def first_npi(db: Database) -> str:
    return str(db.execute("SELECT npi FROM partners WHERE npi IS NOT NULL LIMIT 1").fetchone()[0])


def first_episode(db: Database) -> str:
    return str(db.execute("SELECT id FROM episodes LIMIT 1").fetchone()[0])


def count(db: Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def failure(db: Database, kind: str, path: Path, engine: str) -> ImportFailed:
    before = count(db, "episodes"), count(db, "responses")
    with pytest.raises(ImportFailed) as caught:
        run_import(db, kind, path, today=DEMO_TODAY, engine=engine)
    assert (count(db, "episodes"), count(db, "responses")) == before  # nothing written
    assert "Internal error" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize("engine", ENGINES)
def test_superscript_visits_is_a_row_error(demo_db: Database, tmp_path: Path,
                                           engine: str) -> None:
    path = tmp_path / "referrals.csv"
    path.write_text("episode_id,patient_id,partner_npi,referral_date,body_region,visits\n"
                    f"Z1,MRN-Z1,{first_npi(demo_db)},2026-01-05,knee,\u00b2\n", encoding="utf-8")
    error = failure(demo_db, "referrals", path, engine).report.errors[0]
    assert (error.file, error.line, error.column) == (str(path), 2, "visits")
    assert "whole number" in error.message


@pytest.mark.parametrize("engine", ENGINES)
def test_five_thousand_digit_visits_and_answer(demo_db: Database, tmp_path: Path,
                                               engine: str) -> None:
    path = tmp_path / "referrals.csv"
    path.write_text("episode_id,patient_id,partner_npi,referral_date,body_region,visits\n"
                    f"Z1,MRN-Z1,{first_npi(demo_db)},2026-01-05,knee,{'9' * 5000}\n")
    error = failure(demo_db, "referrals", path, engine).report.errors[0]
    assert (error.line, error.column) == (2, "visits")
    assert len(error.message) < 200  # the cell is cut short in the message
    path = tmp_path / "responses.csv"
    path.write_text("episode_id,instrument,timepoint,date,answers\n"
                    f"{first_episode(demo_db)},nprs,intake,2026-01-05,{'9' * 5000}\n")
    error = failure(demo_db, "responses", path, engine).report.errors[0]
    assert (error.file, error.line, error.column) == (str(path), 2, "answers")


@pytest.mark.parametrize("engine", ENGINES)
def test_unknown_instrument_in_referrals_is_a_row_error_and_can_be_skipped(
        demo_db: Database, tmp_path: Path, engine: str) -> None:
    path = tmp_path / "referrals.csv"
    npi = first_npi(demo_db)
    path.write_text("episode_id,patient_id,partner_npi,referral_date,body_region,instrument\n"
                    f"Z1,MRN-Z1,{npi},2026-01-05,knee,nosuch\n"
                    f"Z2,MRN-Z2,{npi},2026-01-06,knee,koos_jr\n")
    error = failure(demo_db, "referrals", path, engine).report.errors[0]
    assert (error.line, error.column) == (2, "instrument")
    assert "nosuch" in error.message
    report = run_import(demo_db, "referrals", path, today=DEMO_TODAY, skip_invalid=True,
                        engine=engine)
    assert report.written and report.added == 1 and len(report.errors) == 1
    assert demo_db.execute("SELECT instrument FROM episodes WHERE id = 'Z2'").fetchone()[0] \
        == "koos_jr"
    assert demo_db.execute("SELECT count(*) FROM episodes WHERE id = 'Z1'").fetchone()[0] == 0


@pytest.mark.parametrize("byte", [b"\x81", b"\x8d", b"\x90"])
@pytest.mark.parametrize("engine", ENGINES)
def test_bytes_neither_utf8_nor_1252_are_reported_by_line(db: Database, tmp_path: Path,
                                                          byte: bytes, engine: str) -> None:
    path = tmp_path / "partners.csv"
    path.write_bytes(b"name,kind\nDr A,pcp\nDr B,pcp\nDr " + byte + b"C,pcp\n")
    with pytest.raises(OutcomesError) as caught:
        run_import(db, "partners", path, today=DEMO_TODAY, engine=engine)
    message = str(caught.value)
    assert message.startswith(f"{path}, line 4:")
    assert f"0x{byte[0]:02X}" in message and "byte offset" not in message
    assert count(db, "partners") == 0


def test_undefined_1252_byte_is_found_past_the_first_block(db: Database, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The 1252 check is a second pass, made only once the file proved not UTF-8: it counts
    lines across blocks, and finds a byte that was valid inside a UTF-8 letter earlier on."""
    monkeypatch.setattr(csvfile, "_BLOCK", 16)
    path = tmp_path / "partners.csv"
    path.write_bytes(b"name,kind\nDr A,pcp\nDr B,pcp\nDr \xc3\x81lvarez,pcp\n"
                     b"Dr Ren\xe9,pcp\n")
    with pytest.raises(OutcomesError) as caught:
        run_import(db, "partners", path, today=DEMO_TODAY)
    assert str(caught.value).startswith(f"{path}, line 4:") and "0x81" in str(caught.value)
    path.write_bytes(b"name,kind\nDr A,pcp\nDr B,pcp\nDr C,pcp\nDr Ren\xe9,pcp\n")
    assert run_import(db, "partners", path, today=DEMO_TODAY).encoding == "windows-1252"
    assert count(db, "partners") == 4


@pytest.mark.parametrize("engine", ENGINES)
def test_nul_byte_is_reported_by_line(db: Database, tmp_path: Path, engine: str) -> None:
    path = tmp_path / "partners.csv"
    path.write_bytes(b"name,kind\nDr A,pcp\nDr B\x00,pcp\n")
    with pytest.raises(OutcomesError) as caught:
        run_import(db, "partners", path, today=DEMO_TODAY, engine=engine)
    assert str(caught.value).startswith(f"{path}, line 3: the file contains NUL bytes")
    assert count(db, "partners") == 0


def test_a_fifo_is_refused_not_waited_on(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    with pytest.raises(OutcomesError, match="not a regular file"):
        run_import(db, "partners", path, today=DEMO_TODAY)


def _rejects_case(db: Database, tmp_path: Path) -> Path:
    path = tmp_path / "partners.csv"
    path.write_text("name,kind,notes\nDr A,pcp,fine\n=HYPERLINK(\"x\"),nonsense,@SUM(A1)\n")
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_rejects_file_is_new_private_not_a_symlink_and_neutralised(
        db: Database, tmp_path: Path, engine: str) -> None:
    path = _rejects_case(db, tmp_path)
    rejects = tmp_path / "partners.rejects.csv"
    rejects.write_text("old\n")
    rejects.chmod(0o644)  # an existing file's mode is not kept
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    planted = tmp_path / "planted.rejects.csv"
    planted.symlink_to(victim)
    report = run_import(db, "partners", path, today=DEMO_TODAY, skip_invalid=True, engine=engine)
    assert report.rejects_file == str(rejects)
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    text = rejects.read_text()
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text and "\n=" not in text
    assert "old" not in text
    # A symlink planted under the rejects name is replaced, never written through.
    report = run_import(db, "partners", path, today=DEMO_TODAY, skip_invalid=True,
                        rejects_path=planted, engine=engine)
    assert victim.read_text() == "precious\n"
    assert not planted.is_symlink() and stat.S_IMODE(planted.stat().st_mode) == 0o600
    # Re-importing the rejects file reads the neutralised cells back as they were typed.
    assert "=HYPERLINK" in planted.read_text()
