"""Pilot tests of the outbound loop on the partner screen: the outbound referrals listed with
status and dates, the form that moves one along (each step stored as typed, each refusal of the
core shown with the input kept, cancel asks over unsaved input), the same stored rows as the
command line, the reciprocity ledger and the communication log shown as plain text."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from outcomes.network.communications import log_communication
from outcomes.network.outbound import record_outbound
from outcomes.store.database import open_db
from outcomes_tui.app import make_app
from outcomes_tui.forms.confirm import ConfirmScreen
from outcomes_tui.forms.outbound_status import OutboundStatusForm, next_steps
from outcomes_tui.screens.partner_detail import PartnerDetailScreen
from tests.cli_helpers import run_cli
from tests.conftest import DEMO_TODAY
from tests.tui.conftest import wait_until
from tests.tui.forms_helpers import type_into

PARTNER = 1
SENT = "2026-11-21"
LOOP = ("status", "scheduled_date", "seen_date", "findings_date", "findings", "closed_date")


def _add_outbound(path: Path, reason: str = "MRI: suspected full-thickness cuff tear") -> int:
    db = open_db(path)
    try:
        record_outbound(db, PARTNER, {"reason": reason, "date": SENT,
                                      "question": "Tear or tendinopathy?"}, today=DEMO_TODAY)
        return int(db.execute("SELECT max(id) FROM outbound_referrals").fetchone()[0])
    finally:
        db.close()


def _loop(path: Path, oid: int) -> tuple[object, ...]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT {', '.join(LOOP)} FROM outbound_referrals WHERE id = ?",
                            [oid]).fetchone()


async def open_partner(pilot, settle) -> PartnerDetailScreen:
    screen = PartnerDetailScreen(PARTNER)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    await wait_until(pilot, lambda: bool(screen.outbound))
    return screen


async def open_form(pilot, settle, oid: int) -> OutboundStatusForm:
    screen = pilot.app.screen
    if not isinstance(screen, PartnerDetailScreen):
        screen = await open_partner(pilot, settle)
    if screen.query_one("#tabs", TabbedContent).active != "tab-out":
        await pilot.press("s")  # shows the list first: nothing is moved unseen
        await settle(pilot)
        assert pilot.app.screen is screen
        assert screen.query_one("#tabs", TabbedContent).active == "tab-out"
    table = screen.query_one("#referrals-out", DataTable)
    table.focus()
    table.move_cursor(row=[r.id for r in screen.outbound].index(oid))
    await pilot.pause()
    await pilot.press("s")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, OutboundStatusForm) and form.referral.id == oid
    return form


async def step(pilot, settle, form, status: str, when: str = "", findings: str = "") -> None:
    form.query_one("#os-status", Select).value = status
    await pilot.pause()
    if when:
        await type_into(pilot, "#os-date", when)
    if findings:
        await type_into(pilot, "#os-findings", findings)
    await pilot.press("ctrl+s")
    await settle(pilot)


def _status_cell(screen: PartnerDetailScreen, oid: int) -> str:
    table = screen.query_one("#referrals-out", DataTable)
    return str(table.get_row(str(oid))[3])


def test_an_outbound_referral_is_followed_to_closed(app, drive, settle, demo_db_path):
    oid = _add_outbound(demo_db_path)

    async def body(pilot):
        form = await open_form(pilot, settle, oid)
        options = [v for _, v in form.query_one("#os-status", Select)._options]
        assert options == next_steps("sent") == ["scheduled", "seen", "findings_received",
                                                 "closed"]
        assert not form.query_one("#os-findings").display  # no findings when scheduling
        await step(pilot, settle, form, "scheduled", "2026-12-01")  # ahead: allowed
        screen = pilot.app.screen
        assert isinstance(screen, PartnerDetailScreen)
        await wait_until(pilot, lambda: _status_cell(screen, oid) == "scheduled")
        form = await open_form(pilot, settle, oid)
        assert [v for _, v in form.query_one("#os-status", Select)._options] == [
            "seen", "findings_received", "closed"]  # never back
        await step(pilot, settle, form, "seen", "11/22/2026")
        await wait_until(pilot, lambda: _status_cell(screen, oid) == "seen")
        form = await open_form(pilot, settle, oid)
        form.query_one("#os-status", Select).value = "findings_received"
        await pilot.pause()
        assert form.query_one("#os-findings").display
        await step(pilot, settle, form, "findings_received", "2026-11-22",
                   "Partial tear [bold]supraspinatus[/bold]")
        await wait_until(pilot, lambda: _status_cell(screen, oid) == "findings received")
        form = await open_form(pilot, settle, oid)
        await step(pilot, settle, form, "closed")  # no date: today, as on the command line
        await wait_until(pilot, lambda: _status_cell(screen, oid) == "closed")
        row = screen.query_one("#referrals-out", DataTable).get_row(str(oid))
        assert [str(c) for c in row[1:8]] == [SENT, "", "closed", "2026-12-01", "2026-11-22",
                                              "2026-11-22", "2026-11-22"]
        assert str(row[9]) == "Partial tear [bold]supraspinatus[/bold]"  # as typed, no markup
        await pilot.press("s")  # a closed referral has nowhere to go
        await settle(pilot)
        assert pilot.app.screen is screen

    drive(app, body)
    assert _loop(demo_db_path, oid) == ("closed", "2026-12-01", "2026-11-22", "2026-11-22",
                                        "Partial tear [bold]supraspinatus[/bold]", "2026-11-22")


def test_each_refusal_of_the_core_shows_and_the_input_stays(app, drive, settle, demo_db_path):
    oid = _add_outbound(demo_db_path)

    async def body(pilot):
        form = await open_form(pilot, settle, oid)
        error = form.query_one("#form-error", Static)
        date_box = form.query_one("#os-date", Input)
        cases = [
            # (step, date typed, words of the core's refusal)
            ("seen", "2026-13-01", "'2026-13-01' is not a real date"),
            ("seen", "2026-11-20", f"was sent on {SENT}; 2026-11-20 is before that"),
            ("seen", "2026-11-23", "2026-11-23 is in the future"),  # only an appointment may be
            ("scheduled", "2031-12-31", "2031-12-31"),  # more than five years ahead
        ]
        for status, typed, words in cases:
            date_box.value = ""
            await step(pilot, settle, form, status, typed)
            assert pilot.app.screen is form
            assert words in str(error.render()), (typed, str(error.render()))
            assert date_box.value == typed
        date_box.value = ""
        form.query_one("#os-status", Select).value = "findings_received"
        await pilot.pause()
        form.query_one("#os-findings", Input).value = "f" * 5001
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "the limit is 5,000" in str(error.render())
        assert form.query_one("#os-findings", Input).value == "f" * 5001
        assert pilot.app.screen is form

    drive(app, body)
    assert _loop(demo_db_path, oid) == ("sent", None, None, None, None, None)


def test_cancel_without_input_closes_and_with_input_asks(app, drive, settle, demo_db_path):
    oid = _add_outbound(demo_db_path)

    async def body(pilot):
        form = await open_form(pilot, settle, oid)
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot)
        assert isinstance(pilot.app.screen, PartnerDetailScreen)
        form = await open_form(pilot, settle, oid)
        await type_into(pilot, "#os-date", "2026-12-01")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")  # keep editing
        await settle(pilot)
        assert pilot.app.screen is form
        assert form.query_one("#os-date", Input).value == "2026-12-01"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")  # discard
        await settle(pilot)
        assert isinstance(pilot.app.screen, PartnerDetailScreen)
        form = await open_form(pilot, settle, oid)
        form.query_one("#os-status", Select).value = "closed"  # a choice is input too
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)

    drive(app, body)
    assert _loop(demo_db_path, oid) == ("sent", None, None, None, None, None)


def test_the_command_line_and_the_dashboard_store_the_same_loop(
        drive, settle, capsys, demo_db_path: Path, tmp_path: Path) -> None:
    cli_path = tmp_path / "cli.db"
    shutil.copy(demo_db_path, cli_path)
    oid = _add_outbound(demo_db_path)
    assert _add_outbound(cli_path) == oid
    steps = [("scheduled", "2026-12-01", ""), ("seen", "2026-11-22", ""),
             ("findings_received", "2026-11-22", "No tear; tendinopathy"),
             ("closed", "2026-11-22", "")]  # dated: the command line's today is the clock's
    for status, when, findings in steps:
        args = ["outbound", "update", str(oid), "--status", status.replace("_", " "),
                "--date", when]
        args += ["--findings", findings] if findings else []
        result = run_cli(capsys, "--db", str(cli_path), *args)
        assert result.code == 0, result.err

    async def body(pilot):
        for status, when, findings in steps:
            form = await open_form(pilot, settle, oid)
            await step(pilot, settle, form, status, when, findings)
            assert isinstance(pilot.app.screen, PartnerDetailScreen)

    drive(make_app(demo_db_path, today=DEMO_TODAY), body)
    columns = "id, episode_id, partner_id, date, reason, question, " + ", ".join(LOOP)
    rows = []
    for path in (cli_path, demo_db_path):
        with sqlite3.connect(path) as conn:
            rows.append(conn.execute(f"SELECT {columns} FROM outbound_referrals ORDER BY id")
                        .fetchall())
    assert rows[0] == rows[1]
    assert _loop(demo_db_path, oid)[0] == "closed"


def test_ledger_and_communication_log_show_as_plain_text(app, drive, settle, demo_db_path):
    hostile = "[red]MRI[/red] \x1b[2J now"
    oid = _add_outbound(demo_db_path, reason=hostile)
    db = open_db(demo_db_path)
    try:
        log_communication(db, PARTNER, {"kind": "progress update", "channel": "fax",
                                        "date": "2026-11-20", "note": "[b]seen[/b]\x07"},
                          today=DEMO_TODAY)
        received, last_in = db.execute(
            "SELECT count(*), max(referral_date) FROM episodes WHERE partner_id = ?",
            [PARTNER]).fetchone()
        sent = db.execute("SELECT count(*) FROM outbound_referrals WHERE partner_id = ?",
                          [PARTNER]).fetchone()[0]
        made = db.execute("SELECT count(*) FROM communications WHERE partner_id = ?",
                          [PARTNER]).fetchone()[0]
    finally:
        db.close()

    async def body(pilot):
        screen = await open_partner(pilot, settle)
        ledger = str(screen.query_one("#ledger", Static).render())
        assert f"{received} received from them (last {last_in})" in ledger
        assert f"{sent} sent to them (last {SENT})" in ledger
        out = screen.query_one("#referrals-out", DataTable)
        assert str(out.get_row(str(oid))[8]) == "[red]MRI[/red] \\x1b[2J now"
        log = screen.query_one("#communications", DataTable)
        assert log.row_count == made
        cells = [[str(c) for c in log.get_row_at(n)] for n in range(log.row_count)]
        mine = next(c for c in cells if c[7].startswith("[b]seen"))
        assert mine[:5] == ["2026-11-20", "progress note", "fax", "sent", "2026-11-20"]
        assert mine[7] == "[b]seen[/b]\\x07"

    drive(app, body)


def test_s_without_outbound_referrals_says_how_to_log_one(drive, settle, tmp_path: Path,
                                                          capsys) -> None:
    path = tmp_path / "empty.db"
    assert run_cli(capsys, "--db", str(path), "partners", "add", "Dr. Ada Quill", "--kind",
                   "PCP").code == 0
    said: list[str] = []

    async def body(pilot):
        pilot.app.notify = lambda message, **kw: said.append(str(message))  # type: ignore
        screen = PartnerDetailScreen(1)
        await pilot.app.push_screen(screen)
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert screen.query_one("#tabs", TabbedContent).active == "tab-out"
        assert "Reciprocity: no referrals either way yet." in str(
            screen.query_one("#ledger", Static).render())

    drive(make_app(path, today=DEMO_TODAY), body)
    assert any("No outbound referrals to this partner yet" in s for s in said)
