"""The network commands as a script uses them: outcomes.cli.main with argv, exit codes."""

from __future__ import annotations

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


def count(db_path: Path, table: str) -> int:
    db = open_db(db_path)
    try:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        db.close()


def test_partners_add_list_show_edit(cli, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("partners", "add", "Dr. Ana Lee", "--kind", "PCP", "--npi", "1234567893",
            "--fax", "503-555-0100", "--state", "or")
    assert r.code == 0, r.err
    assert cli("partners", "add", "Dr. Ana Lee", "--kind", "PCP", "--npi",
               "1234567893").code == 1
    bad = cli("partners", "add", "Dr. Typo", "--kind", "PCP", "--npi", "1234567890")
    assert bad.code == 1 and "check digit" in bad.err
    assert cli("partners", "add", "Morgan & Pike", "--kind", "attorney").code == 0
    listed = json.loads(cli("partners", "list", "--json", "--kind", "primary care").out)
    assert [p["name"] for p in listed] == ["Dr. Ana Lee"]
    assert listed[0]["state"] == "OR" and listed[0]["kind"] == "primary care"
    assert json.loads(cli("partners", "list", "--json", "--stage", "mature").out) == []
    edit = cli("partners", "edit", "1234567893", "--stage", "mature", "--phone", "5035550199")
    assert edit.code == 0 and "phone" in edit.out and "stage" in edit.out
    assert [p["name"] for p in json.loads(cli("partners", "list", "--json", "--stage",
                                                   "mature").out)] == ["Dr. Ana Lee"]
    show = cli("partners", "show", "Ana", "--today", "2026-06-15")
    assert show.code == 0
    for text in ("Dr. Ana Lee", "your choice", "suggested from activity: prospect",
                 "0 referrals received, 0 sent", "last touch:    never", "5035550199"):
        assert text in show.out
    cli("partners", "add", "Dr. Ben Ray", "--kind", "ortho")
    ambiguous = cli("partners", "show", "Dr")
    assert ambiguous.code == 1 and "matches several partners" in ambiguous.err
    assert cli("partners", "show", "Nobody").code == 1


def test_referrals_lifecycle(cli, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("partners", "add", "Dr. Ana Lee", "--kind", "PCP", "--npi", "1234567893")
    r = cli("referrals", "add", "E1", "--patient", "MRN1", "--partner", "1234567893",
            "--date", "2026-03-02", "--region", "lumbar", "--dx", "M5450")
    assert r.code == 0, r.err
    assert cli("referrals", "add", "E1", "--patient", "MRN1", "--date", "2026-03-02",
               "--region", "knee").code == 1
    assert cli("referrals", "add", "E2", "--patient", "MRN2", "--date", "2026-03-02",
               "--region", "elbowish").code == 1
    steps = [
        (["--status", "scheduled", "--scheduled", "2026-03-05"], 0, "scheduled"),
        (["--status", "evaluated"], 1, "(--first-visit)"),
        (["--status", "evaluated", "--first-visit", "2026-03-05"], 0, "evaluated"),
        (["--status", "received"], 1, "cannot go back"),
        (["--status", "not scheduled", "--reason", "x"], 1, "use cancelled"),
        (["--status", "in care", "--visits", "3"], 0, "in care"),
        (["--status", "discharged"], 1, "(--discharge-date)"),
        (["--status", "discharged", "--discharge-date", "2026-04-20",
          "--discharge-reason", "goals met"], 0, "discharged"),
        (["--status", "cancelled", "--reason", "x"], 1, "already discharged"),
    ]
    for args, code, text in steps:
        r = cli("referrals", "update", "E1", *args)
        assert r.code == code, (args, r.err)
        assert text in (r.out + r.err), (args, r.out, r.err)
    listed = json.loads(cli("referrals", "list", "--json", "--partner", "Ana").out)
    assert listed[0]["status"] == "discharged" and listed[0]["diagnosis"] == "M54.50"
    cli("referrals", "add", "E3", "--patient", "MRN3", "--date", "2026-03-02", "--region",
        "neck")
    r = cli("referrals", "update", "E3", "--status", "cancelled")
    assert r.code == 1 and "(--reason)" in r.err
    assert cli("referrals", "update", "E3", "--status", "canceled", "--reason",
               "Moved away").code == 0


def test_touchpoint_spend_warning_and_refusal(cli, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("partners", "add", "Dr. Okafor", "--kind", "sports med", "--npi", "1234567893")
    cli("settings", "set", "spend_limit_year", "2026")
    cli("settings", "set", "spend_limit", "519")  # the numbers below assume this limit
    ok = cli("touchpoints", "add", "Okafor", "--method", "lunch", "--amount", "300",
             "--date", "2026-02-01")
    assert ok.code == 0 and ok.err == ""
    near = cli("touchpoints", "add", "Okafor", "--method", "lunch", "--amount", "120",
               "--date", "2026-03-01", "--summary", "second lunch")
    assert near.code == 0
    assert "Warning" in near.err and "$420.00" in near.err and "81%" in near.err
    over = cli("touchpoints", "add", "Okafor", "--method", "dinner", "--amount", "100",
               "--date", "2026-04-01")
    assert over.code == 1
    assert "$520.00" in over.err and "$1.00 over the limit" in over.err
    assert "--confirm-over-limit" in over.err
    assert count(db_path, "touchpoints") == 2  # nothing written
    forced = cli("touchpoints", "add", "Okafor", "--method", "dinner", "--amount", "100",
                 "--date", "2026-04-01", "--confirm-over-limit")
    assert forced.code == 0 and "over the limit" in forced.err
    assert count(db_path, "touchpoints") == 3
    # A new calendar year starts from zero.
    from datetime import date

    from outcomes.network.spend import check_spend

    db = open_db(db_path)
    assert check_spend(db, 1, 100, date(2027, 1, 5)).before == 0
    assert check_spend(db, 1, 0, date(2026, 12, 31)).before == 520
    db.close()
    listed = json.loads(cli("touchpoints", "list", "--json", "--partner", "Okafor").out)
    assert {t["method"] for t in listed} >= {"lunch and learn", "event"}


def test_outbound_and_communications(cli, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("partners", "add", "Northwest Imaging", "--kind", "hospital")
    cli("referrals", "add", "E1", "--patient", "MRN1", "--date", "2026-03-02", "--region",
        "shoulder")
    r = cli("outbound", "add", "Northwest", "--episode", "E1", "--date", "2026-03-20",
            "--reason", "MRI to rule out a full-thickness tear")
    assert r.code == 0, r.err
    assert cli("outbound", "add", "Northwest", "--date", "2026-03-20").code == 2
    assert cli("outbound", "add", "Northwest", "--episode", "E404", "--reason",
               "x").code == 1
    assert "--payment" not in cli("outbound", "add", "--help").out
    r = cli("communications", "add", "Northwest", "--kind", "progress", "--episode", "E1",
            "--date", "2026-03-21", "--channel", "portal")
    assert r.code == 0, r.err
    listed = json.loads(cli("communications", "list", "--json", "--episode", "E1").out)
    assert [(c["kind"], c["channel"]) for c in listed] == [("progress_update", "portal")]


def test_alerts_command_on_the_demo(demo_db_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, "--db", str(demo_db_path), "alerts", "--json", "--today", "2026-11-22")
    assert r.code == 0
    data = json.loads(r.out)
    kinds = {(a["partner"], a["kind"]) for a in data}
    assert ("Dr. Margaret Hale", "relationship_at_risk") in kinds
    assert ("Dr. Priya Raman", "first_referral") in kinds
    assert ("Dr. Samuel Okafor", "spend_limit") in kinds
    text = run_cli(capsys, "--db", str(demo_db_path), "alerts", "--today", "2026-11-22",
                   "--kind", "relationship_at_risk")
    assert "[relationship_at_risk] Dr. Margaret Hale" in text.out and "->" in text.out


def test_prospects_import_command(db_path: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from tests.network.test_network_prospects import nppes_header, provider

    header = nppes_header()
    path = tmp_path / "npi.csv"
    import csv

    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerow(provider(header, npi="1234567893", entity="1", last="LEE", first="ANA",
                            taxonomies="207Q00000X", state="OR", zip="97201"))
    r = run_cli(capsys, "--db", str(db_path), "prospects", "import", str(path), "--state",
                "OR", "--kind", "pcp", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["added"] == 1


@pytest.mark.parametrize("command", [
    ["partners", "add"], ["partners", "edit"], ["partners", "list"], ["partners", "show"],
    ["partners", "stages"], ["referrals", "add"], ["referrals", "update"],
    ["referrals", "list"], ["touchpoints", "add"], ["touchpoints", "list"],
    ["outbound", "add"], ["communications", "add"], ["communications", "list"], ["alerts"],
    ["prospects", "import"],
])
def test_every_command_has_help_with_an_example(command: list[str],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, *command, "--help")
    assert r.code == 0
    assert "Example" in r.out and "outcomes " in r.out
