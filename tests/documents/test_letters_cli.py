"""Patient letters (content, recording, the owed-document alert) and the report commands."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlite_utils import Database

from outcomes.documents.letters import build_letter, make_letter, render_letter_markdown
from outcomes.errors import ValidationError
from outcomes.store.database import transaction
from tests.clinic_fixture import END, START, TODAY, add_episode


def test_discharge_letter_content(db: Database, clinic: dict[str, int]) -> None:
    letter = build_letter(db, "A1", "discharge", today=TODAY)
    md = render_letter_markdown(letter)
    for expected in ("Discharge summary", "Alice Quartz", "May 17, 1960", "MRN-A1",
                     "M54.50", "Low back pain", "Exercise", "Home program",
                     "Reason for discharge: goals met", "Dr. Ada Stone", "Test Clinic",
                     "40.0 (January 1, 2026)", "20.0 (discharge, April 15, 2026)",
                     "+20.0 (better)", "reached (MCID 30% of intake)",
                     "fax (555) 010-0000"):
        assert expected in md, expected
    assert "Onset" in md or "Date of onset" in md


def test_progress_letter_for_carried_forward_and_lefs(db: Database,
                                                      clinic: dict[str, int]) -> None:
    md = render_letter_markdown(build_letter(db, "A7", "progress", today=TODAY))
    assert "Lower Extremity Functional Scale" in md
    assert "-5.0 (worse)" in md and "not reached (MCID 9 points)" in md
    md = render_letter_markdown(build_letter(db, "A4", "discharge", today=TODAY))
    assert "30.0 (progress, March 1, 2026)" in md
    assert "Reason for discharge: self discharged" in md


def test_letter_refusals(db: Database, clinic: dict[str, int]) -> None:
    with pytest.raises(ValidationError, match="has not been discharged"):
        build_letter(db, "A8", "discharge", today=TODAY)
    with pytest.raises(ValidationError, match="no referring partner"):
        build_letter(db, "S1", "progress", today=TODAY)
    with pytest.raises(ValidationError):
        build_letter(db, "A1", "summary", today=TODAY)


def test_letter_made_then_sent_clears_the_owed_summary(db: Database, clinic: dict[str, int],
                                                       tmp_path: Path) -> None:
    from outcomes.network.alerts import compute_alerts

    # A discharge five days before "today" is owed an update.
    add_episode(db, "U1", clinic["a"], date(2026, 5, 1), 1, 6, False)

    with transaction(db):
        db.execute("UPDATE episodes SET status = 'discharged', discharge_date = '2026-06-26',"
                   " discharge_reason = 'goals_met' WHERE id = 'U1'")

    def owed() -> list[str]:
        return [a.episode_id for a in compute_alerts(db, TODAY)
                if a.kind == "document_owed" and a.episode_id == "U1"
                and a.evidence["document"] == "discharge_summary"]

    assert owed() == ["U1"]
    out = tmp_path / "u1.pdf"
    _letter, comm_id = make_letter(db, "U1", "discharge", out, today=TODAY)
    row = db.execute("SELECT partner_id, episode_id, kind, date, document, status FROM"
                     " communications WHERE id = ?", [comm_id]).fetchone()
    assert row == (clinic["a"], "U1", "discharge_summary", TODAY.isoformat(),
                   "discharge_summary", "made")
    assert owed() == ["U1"]          # made is not sent
    from outcomes.network.communications import mark_sent

    mark_sent(db, comm_id, channel="fax", today=TODAY)
    assert owed() == []
    assert out.stat().st_mode & 0o777 == 0o600
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert "Patient U1" in text and "Discharge summary" in text


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], db_path: Path):  # type: ignore[no-untyped-def]
    """Run the real entry point (errors become one line on stderr and exit 1)."""
    from cli_helpers import run_cli

    def invoke(*args: str) -> tuple[int, str]:
        result = run_cli(capsys, "--db", str(db_path), *args)
        return result.code, result.out + result.err

    return invoke


def test_cli_scorecard_json_and_table(db: Database, run,
                                      clinic: dict[str, int]) -> None:
    code, out = run("scorecard", "--from", START.isoformat(), "--to", END.isoformat(),
                     "--json")
    assert code == 0, out
    card = json.loads(out)
    assert card["min_n"] == 5 and card["partners"][0]["referrals"] == 8
    code, out = run("scorecard", "--from", START.isoformat(), "--to", END.isoformat(),
                     "--partner", "Ada Stone")
    assert code == 0 and "Dr. Ada Stone" in out and "(whole clinic)" in out
    code, _ = run("scorecard", "--from", "2026-02-30")
    assert code == 2


def test_cli_nps_stats(db: Database, run,  # type: ignore[no-untyped-def]
                      clinic: dict[str, int]) -> None:
    code, out = run("nps-stats", "--from", START.isoformat(), "--to", END.isoformat(),
                     "--by", "month", "--json")
    assert code == 0, out
    assert json.loads(out)["groups"][0]["label"] == "2026-05"
    code, out = run("nps-stats", "--from", START.isoformat(), "--to", END.isoformat())
    assert code == 0 and "overall" in out and "reached the MCID" in out
    assert run("nps-stats", "--by", "year")[0] == 2


def test_cli_packet_packets_letter(db: Database, run,  # type: ignore[no-untyped-def]
                                   clinic: dict[str, int],
                                   tmp_path: Path) -> None:
    out = tmp_path / "a.html"
    code, text = run("packet", "1234567893", "--out", str(out), "--from",
                      START.isoformat(), "--to", END.isoformat())
    assert code == 0, text
    assert "Dr. Ada Stone" in out.read_text()
    code, text = run("packets", "--all", "--out", str(tmp_path / "all"), "--from",
                      START.isoformat(), "--to", END.isoformat(), "--format", "md")
    assert code == 0 and "1 packets written" in text
    code, text = run("packet", "Nobody", "--out", str(out))
    assert code == 1 and "No partner matches" in text
    code, text = run("letter", "A1", "--kind", "discharge", "--out",
                      str(tmp_path / "a1.md"))
    assert code == 0, text
    assert "Alice Quartz" in (tmp_path / "a1.md").read_text()
    assert run("letter", "A1", "--kind", "other", "--out", str(tmp_path / "x.md"))[0] == 2
    kinds = [r[0] for r in db.execute("SELECT kind FROM communications ORDER BY id")]
    assert kinds == ["packet", "packet", "discharge_summary"]
