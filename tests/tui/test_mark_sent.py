"""Pilot tests of "made, not yet sent" on the packets screen and the mark-as-sent form: a packet
made is listed until it is marked as sent, the date typed is stored, the core's refusal shows
with the input kept, cancel asks only when something was changed."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from textual.widgets import DataTable, Input, Static

from outcomes.documents.packets import make_packet
from outcomes.store.database import open_db
from outcomes_tui.forms.confirm import ConfirmScreen
from outcomes_tui.forms.mark_sent import MarkSentForm
from outcomes_tui.screens.packets import PacketsScreen
from tests.conftest import DEMO_TODAY
from tests.tui.conftest import wait_until
from tests.tui.forms_helpers import type_into


def _made_packet(path, tmp_path) -> int:
    db = open_db(path)
    pid = db.execute("SELECT id FROM partners WHERE name = 'Dr. Margaret Hale'").fetchone()[0]
    made = make_packet(db, pid, tmp_path / "hale.pdf", DEMO_TODAY - timedelta(days=365),
                       DEMO_TODAY, today=DEMO_TODAY)
    db.conn.close()
    return made.communication_id


def _row(path, cid):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT status, channel, sent_date FROM communications"
                            " WHERE id = ?", [cid]).fetchone()


async def _open_form(pilot, cid):
    await pilot.press("k")
    screen = pilot.app.screen
    assert isinstance(screen, PacketsScreen)
    table = screen.query_one("#unsent", DataTable)
    await wait_until(pilot, lambda: str(cid) in screen.unsent)
    table.focus()
    table.move_cursor(row=table.get_row_index(str(cid)))
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, MarkSentForm))
    return screen, pilot.app.screen


def test_a_made_packet_is_listed_until_marked_sent_with_the_date_typed(
        app, drive, demo_db_path, tmp_path):
    cid = _made_packet(demo_db_path, tmp_path)
    assert _row(demo_db_path, cid) == ("made", "fax", None)
    sent = (DEMO_TODAY - timedelta(days=0)).isoformat()

    async def body(pilot):
        screen, form = await _open_form(pilot, cid)
        form.query_one("#sent-channel").value = "email"
        form.query_one("#sent-date", Input).value = ""
        await type_into(pilot, "#sent-date", sent)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen is screen)
        await wait_until(pilot, lambda: str(cid) not in screen.unsent)

    drive(app, body)
    assert _row(demo_db_path, cid) == ("sent", "email", sent)


def test_a_date_before_the_packet_was_made_is_refused_and_the_input_kept(
        app, drive, demo_db_path, tmp_path):
    cid = _made_packet(demo_db_path, tmp_path)
    early = (DEMO_TODAY - timedelta(days=3)).isoformat()

    async def body(pilot):
        _, form = await _open_form(pilot, cid)
        form.query_one("#sent-date", Input).value = early
        await pilot.press("ctrl+s")
        error = form.query_one("#form-error", Static)
        await wait_until(pilot, lambda: "cannot have been sent" in str(error.render()))
        assert pilot.app.screen is form
        assert form.query_one("#sent-date", Input).value == early
        form.query_one("#sent-date", Input).value = "not a date"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "date" in str(error.render()).lower()
                         and "cannot have been sent" not in str(error.render()))
        assert pilot.app.screen is form

    drive(app, body)
    assert _row(demo_db_path, cid) == ("made", "fax", None)


def test_escape_closes_at_once_when_untouched_and_asks_when_changed(
        app, drive, demo_db_path, tmp_path):
    cid = _made_packet(demo_db_path, tmp_path)

    async def body(pilot):
        screen, form = await _open_form(pilot, cid)
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is screen)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, MarkSentForm))
        form = pilot.app.screen
        form.query_one("#sent-date", Input).value = "2026-11-20"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: pilot.app.screen is form)
        assert form.query_one("#sent-date", Input).value == "2026-11-20"

    drive(app, body)
    assert _row(demo_db_path, cid) == ("made", "fax", None)
