"""The two faces of the app apply the same rules and show the same figures, because both ask
the core (issue "One core, thin front ends")."""

from __future__ import annotations

import json
import re
from pathlib import Path

from textual.widgets import Input

from outcomes.periods import default_period
from outcomes.store.database import open_db
from outcomes_tui.app import make_app
from outcomes_tui.forms.confirm import ConfirmScreen
from outcomes_tui.forms.touchpoint import TouchpointForm
from outcomes_tui.screens.partner_detail import PartnerDetailScreen
from tests.cli_helpers import run_cli
from tests.conftest import DEMO_TODAY
from tests.tui.conftest import wait_until


def _clinic_with_a_lunch(path: Path, capsys) -> Path:
    """A partner with $450 of meals this year against a $500 limit."""
    for args in (["partners", "add", "Dr. Okafor", "--kind", "sports med", "--npi",
                  "1234567893"],
                 ["settings", "set", "spend_limit", "500"],
                 ["settings", "set", "spend_limit_year", "2026"],
                 ["touchpoints", "add", "Okafor", "--method", "lunch", "--amount", "450",
                  "--date", "2026-02-01"]):
        assert run_cli(capsys, "--db", str(path), *args).code == 0
    return path


def _lunches(path: Path) -> list[tuple[str, float]]:
    db = open_db(path)
    try:
        return [(r[0], r[1]) for r in db.execute(
            "SELECT date, amount FROM touchpoints ORDER BY date, id")]
    finally:
        db.close()


def _dashboard_lunch(path: Path, drive, settle, *, confirm: bool) -> str:
    """Log an $80 lunch from the dashboard's touchpoint form; return the form's message."""
    app = make_app(path, today=DEMO_TODAY)
    seen: dict[str, str] = {}

    async def body(pilot):
        form = TouchpointForm(1, "Dr. Okafor")
        await pilot.app.push_screen(form)
        await settle(pilot)
        form.query_one("#tp-date", Input).value = "2026-03-01"
        form.query_one("#tp-amount", Input).value = "80"
        form.query_one("#tp-summary", Input).value = "Lunch and learn"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        seen["message"] = str(form.query_one("#form-error").render())
        await pilot.press("enter" if confirm else "escape")
        if confirm:
            await wait_until(pilot, lambda: not isinstance(pilot.app.screen,
                                                           (TouchpointForm, ConfirmScreen)))
        else:
            await wait_until(pilot, lambda: pilot.app.screen is form)  # the form is kept

    drive(app, body)
    return seen["message"]


def test_both_faces_refuse_the_same_over_limit_lunch_and_take_the_same_override(
        drive, settle, capsys, tmp_path: Path) -> None:
    lunch_db = _clinic_with_a_lunch(tmp_path / "tui.db", capsys)
    cli_db = _clinic_with_a_lunch(tmp_path / "cli.db", capsys)
    refused = run_cli(capsys, "--db", str(cli_db), "touchpoints", "add", "Okafor", "--method",
                      "lunch", "--amount", "80", "--date", "2026-03-01",
                      "--summary", "Lunch and learn")
    assert refused.code == 1
    cli_message = re.search(r"^Error: (.*)$", refused.err, re.M).group(1)  # type: ignore[union-attr]
    assert "over the limit" in cli_message and "Nothing was recorded" in cli_message
    assert len(_lunches(cli_db)) == 1

    dashboard_message = _dashboard_lunch(lunch_db, drive, settle, confirm=False)
    assert dashboard_message == cli_message
    assert len(_lunches(lunch_db)) == 1

    accepted = run_cli(capsys, "--db", str(cli_db), "touchpoints", "add", "Okafor", "--method",
                       "lunch", "--amount", "80", "--date", "2026-03-01",
                       "--summary", "Lunch and learn", "--confirm-over-limit")
    assert accepted.code == 0, accepted.err
    _dashboard_lunch(lunch_db, drive, settle, confirm=True)
    assert _lunches(lunch_db) == _lunches(cli_db) == [("2026-02-01", 450.0),
                                                      ("2026-03-01", 80.0)]


def test_dashboard_scorecard_and_packets_give_the_same_figures(
        demo_db_path: Path, drive, settle, capsys, tmp_path: Path, monkeypatch) -> None:
    """The partner screen, `outcomes scorecard --json` and a packet made from either face,
    for the same partner over "the last 12 months"."""
    monkeypatch.setenv("OUTCOMES_DOCUMENTS", str(tmp_path / "docs"))
    db = open_db(demo_db_path)
    pid = db.execute("SELECT id FROM partners WHERE name = 'Dr. Margaret Hale'").fetchone()[0]
    db.close()
    period = default_period(DEMO_TODAY)
    shown: dict[str, object] = {}

    async def body(pilot):
        screen = PartnerDetailScreen(pid)
        await pilot.app.push_screen(screen)
        await settle(pilot)
        shown["card"] = screen.scorecard
        shown["nps"] = screen.detail.nps if screen.detail else None
        await pilot.press("k")
        await settle(pilot)

    drive(make_app(demo_db_path, today=DEMO_TODAY), body)
    cli = run_cli(capsys, "--db", str(demo_db_path), "scorecard", "--json", "--partner",
                  str(pid), "--from", period.start.isoformat(), "--to", period.end.isoformat())
    assert cli.code == 0, cli.err
    card = json.loads(cli.out)
    dashboard_card = shown["card"]
    assert dashboard_card is not None
    assert card == json.loads(json.dumps(dashboard_card.as_dict()))  # type: ignore[attr-defined]
    nps = shown["nps"]
    assert (nps.n, nps.score) == (card["partners"][0]["nps"]["n"],  # type: ignore[union-attr]
                                  card["partners"][0]["nps"]["score"])

    # The packet made from the dashboard (PDF) says what the CLI's packet (Markdown) says.
    from pypdf import PdfReader

    made = list((tmp_path / "docs").glob("packet-*.pdf"))
    assert len(made) == 1
    pdf_text = " ".join(" ".join(page.extract_text() for page in PdfReader(made[0]).pages)
                        .split())
    out = tmp_path / "hale.md"
    r = run_cli(capsys, "--db", str(demo_db_path), "packet", str(pid), "--out", str(out),
                "--from", period.start.isoformat(), "--to", period.end.isoformat())
    assert r.code == 0, r.err
    md_text = " ".join(out.read_text().replace("*", "").split())
    first = re.search(r"Of the \d+ patients you referred from [^.]+\.", md_text)
    assert first is not None, md_text[:500]
    assert first.group(0) in pdf_text
    mine = card["partners"][0]
    assert f"Of the {mine['referrals']} patients you referred" in first.group(0)
