"""The referrer loop from the command line: clinical content, letters made then sent, the
communication log and its export, an outbound referral followed to findings and closed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from outcomes.store.database import open_db
from tests.cli_helpers import run_cli


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(*args: str):  # type: ignore[no-untyped-def]
        return run_cli(capsys, "--db", str(db_path), *args)

    return run


@pytest.fixture
def episode(cli) -> str:  # type: ignore[no-untyped-def]
    assert cli("partners", "add", "Dr. Ana Lee", "--kind", "PCP", "--npi", "1234567893",
               "--fax", "503-555-0100").code == 0
    assert cli("partners", "add", "Northwest Imaging", "--kind", "other").code == 0
    r = cli("referrals", "add", "E1", "--patient", "MRN1", "--patient-name", "Ada Park",
            "--partner", "Lee", "--date", "2026-01-05", "--region", "low back",
            "--first-visit", "2026-01-08")
    assert r.code == 0, r.err
    return "E1"


def test_clinical_content_goals_and_certification(cli, episode: str,  # type: ignore[no-untyped-def]
                                                  db_path: Path) -> None:
    r = cli("referrals", "update", episode, "--findings", "[bold]Flexion[/bold] 50%",
            "--frequency", "2x/week", "--duration", "6 weeks", "--question", "Surgery?",
            "--goal", "Sit 60 minutes|2026-02-15", "--goal", "Walk 1 km", "--dx", "M54.50")
    assert r.code == 0, r.err
    assert "objective findings" in r.out and "2 goals added" in r.out
    shown = json.loads(cli("referrals", "show", episode, "--json").out)
    assert shown["findings"] == "[bold]Flexion[/bold] 50%"        # stored as typed
    assert shown["diagnosis"] == "M54.50"
    assert [(g["goal"], g["target_date"]) for g in shown["goals"]] == [
        ("Sit 60 minutes", "2026-02-15"), ("Walk 1 km", None)]
    gid = shown["goals"][0]["id"]
    assert cli("referrals", "update", episode, "--goal-status", f"{gid}=met").code == 0
    bad = cli("referrals", "update", episode, "--poc-certified", "2026-01-20")
    assert bad.code == 1 and "--certified-by" in bad.err
    bad = cli("referrals", "update", episode, "--dx", "back pain")
    assert bad.code == 1 and "ICD-10-CM" in bad.err
    bad = cli("referrals", "update", episode, "--goal", "a|b|c|d")
    assert bad.code == 1 and "--goal" in bad.err
    ok = cli("referrals", "update", episode, "--poc-certified", "2026-01-20", "--certified-by",
             "order on file")
    assert ok.code == 0, ok.err
    db = open_db(db_path)
    try:
        assert db.execute("SELECT poc_certified_by, status FROM episodes").fetchone() == \
            ("order_on_file", "evaluated")
        assert db.execute("SELECT status FROM episode_goals ORDER BY id").fetchall() == \
            [("met",), ("open",)]
    finally:
        db.close()


def test_a_failed_clinical_field_writes_nothing(cli, episode: str,  # type: ignore[no-untyped-def]
                                                db_path: Path) -> None:
    r = cli("referrals", "update", episode, "--clinician", "PT Two", "--onset", "2999-01-01")
    assert r.code == 1 and "--onset" in r.err
    db = open_db(db_path)
    try:
        assert db.execute("SELECT clinician FROM episodes").fetchone() == (None,)
    finally:
        db.close()


def test_letter_made_then_sent_and_exported(cli, episode: str,  # type: ignore[no-untyped-def]
                                            tmp_path: Path) -> None:
    out = tmp_path / "eval.txt"
    r = cli("letter", episode, "--kind", "evaluation", "--out", str(out))
    assert r.code == 0, r.err
    assert "recorded as made (communication 1)" in r.out
    assert "EVALUATION SUMMARY AND PLAN OF CARE" in out.read_text()
    listed = json.loads(cli("communications", "list", "--json").out)
    assert [(c["document"], c["status"], c["sent_date"]) for c in listed] == [
        ("evaluation_summary", "made", None)]
    assert cli("communications", "sent", "1", "--channel", "carrier pigeon").code == 1
    assert cli("communications", "sent", "9", "--channel", "fax").code == 1
    from outcomes.dates import today

    sent_on = today().isoformat()      # a letter cannot be sent before the day it was made
    r = cli("communications", "sent", "1", "--channel", "fax", "--date", sent_on)
    assert r.code == 0, r.err
    export = tmp_path / "comms.csv"
    assert cli("communications", "export", "--out", str(export)).code == 0
    rows = list(csv.DictReader(export.open(encoding="utf-8")))
    assert [(r["document"], r["status"], r["sent_date"], r["channel"]) for r in rows] == [
        ("evaluation_summary", "sent", sent_on, "fax")]
    assert len(rows[0]["sha256"]) == 64
    assert export.stat().st_mode & 0o777 == 0o600
    as_json = tmp_path / "comms.json"
    assert cli("communications", "export", "--out", str(as_json), "--json").code == 0
    records = json.loads(as_json.read_text(encoding="utf-8"))
    assert [{k: str(v) if v is not None else "" for k, v in r.items()} for r in records] == rows
    assert as_json.stat().st_mode & 0o777 == 0o600
    shown = json.loads(cli("referrals", "show", episode, "--json").out)
    assert shown["poc_sent_date"] == sent_on


def test_outbound_followed_to_findings_and_closed(cli, episode: str,  # type: ignore[no-untyped-def]
                                                  tmp_path: Path) -> None:
    r = cli("outbound", "add", "Northwest Imaging", "--episode", episode, "--reason",
            "MRI: radicular signs", "--question", "L4-5 compression?", "--date", "2026-01-20")
    assert r.code == 0, r.err
    listed = json.loads(cli("outbound", "list", "--json").out)
    assert [(o["id"], o["status"], o["question"]) for o in listed] == [
        (1, "sent", "L4-5 compression?")]
    note = tmp_path / "note.md"
    assert cli("letter", episode, "--kind", "outbound", "--out", str(note)).code == 0
    assert "L4-5 compression?" in note.read_text()
    assert cli("outbound", "update", "1", "--status", "scheduled", "--date",
               "2026-01-25").code == 0
    r = cli("outbound", "update", "1", "--status", "findings received", "--date", "2026-02-01",
            "--findings", "No compression")
    assert r.code == 0 and "findings received on 2026-02-01" in r.out
    back = cli("outbound", "update", "1", "--status", "seen")
    assert back.code == 1 and "cannot go back" in back.err
    before = cli("outbound", "update", "1", "--status", "closed", "--date", "2026-01-01")
    assert before.code == 1 and "--date" in before.err
    assert cli("outbound", "update", "1", "--status", "closed", "--date", "2026-02-02").code == 0
    assert json.loads(cli("outbound", "list", "--open", "--json").out) == []
    (row,) = json.loads(cli("outbound", "list", "--json").out)
    assert (row["status"], row["findings"], row["closed_date"]) == (
        "closed", "No compression", "2026-02-02")
    ledger = {r["partner"]: r for r in json.loads(cli("outbound", "ledger", "--json").out)}
    assert (ledger["Dr. Ana Lee"]["received"], ledger["Dr. Ana Lee"]["last_received"],
            ledger["Dr. Ana Lee"]["sent"]) == (1, "2026-01-05", 0)
    assert (ledger["Northwest Imaging"]["sent"],
            ledger["Northwest Imaging"]["last_sent"]) == (1, "2026-01-20")


def test_letter_template_prints_the_built_in_and_the_path(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("letter-template", "discharge")
    assert r.code == 0 and r.out.startswith("title: Discharge summary")
    r = cli("letter-template", "discharge", "--path")
    assert r.out.strip().endswith("letters/discharge.txt")
    assert cli("letter-template", "memo").code == 2


def test_outbound_question_round_trips_through_csv(cli, episode: str,  # type: ignore[no-untyped-def]
                                                   tmp_path: Path) -> None:
    source = tmp_path / "outbound.csv"
    source.write_text("episode,partner,date,reason,clinical_question\n"
                      f"{episode},Northwest Imaging,2026-01-20,MRI,=L4-5 compression?\n",
                      encoding="utf-8")
    r = cli("import", "outbound", str(source))
    assert r.code == 0, r.err
    (row,) = json.loads(cli("outbound", "list", "--json").out)
    assert row["question"] == "=L4-5 compression?"           # stored as typed
    out = tmp_path / "export.csv"
    assert cli("export", "outbound", "-o", str(out)).code == 0
    (exported,) = list(csv.DictReader(out.open(encoding="utf-8")))
    assert exported["reason"] == "MRI"
    assert exported["question"].endswith("=L4-5 compression?")


def test_a_letter_written_elsewhere_is_logged_by_document(cli, episode: str) -> None:  # type: ignore[no-untyped-def]
    from outcomes.dates import today

    def owed() -> list[str]:
        return [o["document"] for o in json.loads(cli("referrals", "show", episode,
                                                      "--json").out)["owed"]]

    # The episode's first visit is long past: outside the window nothing is chased, so move it.
    first = today().isoformat()
    assert cli("referrals", "update", episode, "--first-visit", first).code == 0
    assert owed() == ["evaluation_summary"]
    bad = cli("communications", "add", "Lee", "--document", "memo", "--episode", episode)
    assert bad.code == 1 and "--document" in bad.err
    assert cli("communications", "add", "Lee", "--episode", episode).code == 1
    r = cli("communications", "add", "Lee", "--document", "evaluation summary", "--episode",
            episode, "--channel", "portal")
    assert r.code == 0, r.err
    assert owed() == []
