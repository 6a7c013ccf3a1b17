"""Pilot tests of the change-status form: only the core's moves are offered, each move stores
exactly what was typed, the core's refusals show with the input kept, cancel asks when dirty."""

from __future__ import annotations

import sqlite3

from textual.widgets import Input, Select, Static

from outcomes.network.referrals import allowed_moves
from outcomes_tui.forms.confirm import ConfirmScreen
from outcomes_tui.forms.referral_status import ReferralStatusForm
from outcomes_tui.screens.episodes import EpisodesScreen
from tests.tui.forms_helpers import type_into


def _episode(path, status, *, with_first_visit=None):
    sql = "SELECT id FROM episodes WHERE status = ?"
    if with_first_visit is not None:
        sql += f" AND first_visit_date IS {'NOT ' if with_first_visit else ''}NULL"
    with sqlite3.connect(path) as conn:
        return conn.execute(sql + " ORDER BY id LIMIT 1", [status]).fetchone()[0]


def _row(path, episode_id, *cols):
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT {', '.join(cols)} FROM episodes WHERE id = ?",
                            [episode_id]).fetchone()


async def open_form(pilot, settle, episode_id):
    await pilot.press("e")
    await settle(pilot)
    await type_into(pilot, "#search", episode_id)
    await settle(pilot)
    await pilot.press("down")
    await settle(pilot)
    screen = pilot.app.screen
    assert screen.ids[0] == episode_id
    await pilot.press("c")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, ReferralStatusForm)
    return form


def _offered(form):
    return [value for _, value in form.query_one("#rs-move", Select)._options if value]


async def choose(pilot, form, move):
    form.query_one("#rs-move", Select).value = move
    await pilot.pause()


def test_schedule_then_evaluate_store_the_dates_typed(app, drive, settle, demo_db_path):
    eid = _episode(demo_db_path, "scheduled")

    async def body(pilot):
        form = await open_form(pilot, settle, eid)
        assert _offered(form) == allowed_moves("scheduled")
        assert "not scheduled" in [str(label) for label, _ in
                                   form.query_one("#rs-move", Select)._options]
        await choose(pilot, form, "scheduled")
        assert form.query_one("#rs-date").display and not form.query_one("#rs-reason").display
        await type_into(pilot, "#rs-date", "2026-12-01")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EpisodesScreen)
        assert "scheduled" in str(pilot.app.screen.query_one("#episode-info").render())
        await pilot.press("c")
        await settle(pilot)
        form = pilot.app.screen
        await choose(pilot, form, "evaluated")
        await type_into(pilot, "#rs-date", "11/21/2026")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EpisodesScreen)

    drive(app, body)
    assert _row(demo_db_path, eid, "status", "scheduled_date", "first_visit_date") == (
        "evaluated", "2026-12-01", "2026-11-21")


def test_discharge_stores_date_visits_and_reason(app, drive, settle, demo_db_path):
    eid = _episode(demo_db_path, "in_care", with_first_visit=True)

    async def body(pilot):
        form = await open_form(pilot, settle, eid)
        assert _offered(form) == ["discharged", "cancelled"]
        await choose(pilot, form, "discharged")
        assert not form.query_one("#rs-first").display  # a first visit is on file
        await type_into(pilot, "#rs-date", "2026-11-22")
        await type_into(pilot, "#rs-visits", "12")
        form.query_one("#rs-discharge-reason", Select).value = "goals_met"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EpisodesScreen)

    drive(app, body)
    assert _row(demo_db_path, eid, "status", "discharge_date", "visits", "discharge_reason") == (
        "discharged", "2026-11-22", 12, "goals_met")


def test_not_scheduled_needs_a_reason_and_reopen_says_why(app, drive, settle, demo_db_path):
    eid = _episode(demo_db_path, "scheduled")

    async def body(pilot):
        form = await open_form(pilot, settle, eid)
        await choose(pilot, form, "not_scheduled")
        assert form.query_one("#rs-reason").display and not form.query_one("#rs-date").display
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "a reason is required to mark a referral not scheduled" in str(
            form.query_one("#form-error", Static).render())
        await type_into(pilot, "#rs-reason", "Patient chose another clinic")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EpisodesScreen)
        await pilot.press("c")
        await settle(pilot)
        form = pilot.app.screen
        assert _offered(form) == ["reopen"]  # closed: reopening is the only move
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "say why the referral is reopened" in str(form.query_one("#form-error").render())
        await type_into(pilot, "#rs-reason", "Called back")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EpisodesScreen)

    drive(app, body)
    assert _row(demo_db_path, eid, "status", "status_reason") == ("scheduled", None)
    with sqlite3.connect(demo_db_path) as conn:
        reasons = [r[0] for r in conn.execute(
            "SELECT detail FROM audit_log WHERE action IN ('update', 'reopen')"
            " AND detail LIKE ? ORDER BY id", [f'%"{eid}"%'])]
    assert any("Patient chose another clinic" in r for r in reasons)
    assert any("Called back" in r for r in reasons)


def test_the_cores_refusals_show_and_the_input_stays(app, drive, settle, demo_db_path):
    eid = _episode(demo_db_path, "scheduled")
    referred = _row(demo_db_path, eid, "referral_date")[0]

    async def body(pilot):
        form = await open_form(pilot, settle, eid)
        error = form.query_one("#form-error", Static)
        await choose(pilot, form, "evaluated")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "First visit date: a date is required" in str(error.render())
        await type_into(pilot, "#rs-date", "1989-01-01")  # before the referral
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "1989-01-01" in str(error.render())
        assert form.query_one("#rs-date", Input).value == "1989-01-01"
        await choose(pilot, form, "discharged")
        assert form.query_one("#rs-first").display  # no first visit on file: asked for
        form.query_one("#rs-date", Input).value = ""
        await type_into(pilot, "#rs-date", "2026-11-21")
        await type_into(pilot, "#rs-visits", "x1")  # "x" is refused by the integer box
        assert form.query_one("#rs-visits", Input).value == "1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "first visit date is required" in str(error.render())
        await type_into(pilot, "#rs-first", "2026-11-22")  # after the discharge
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "discharge_date 2026-11-21 is before the first visit 2026-11-22" in str(
            error.render())
        assert form.query_one("#rs-first", Input).value == "2026-11-22"
        assert isinstance(pilot.app.screen, ReferralStatusForm)

    drive(app, body)
    assert _row(demo_db_path, eid, "status", "first_visit_date", "referral_date") == (
        "scheduled", None, referred)


def test_cancel_without_input_closes_and_with_input_asks(app, drive, settle, demo_db_path):
    eid = _episode(demo_db_path, "scheduled")

    async def body(pilot):
        await open_form(pilot, settle, eid)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EpisodesScreen)
        await pilot.press("c")
        await settle(pilot)
        form = pilot.app.screen
        await choose(pilot, form, "scheduled")
        await type_into(pilot, "#rs-date", "2026-12-01")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert form.query_one("#rs-date", Input).value == "2026-12-01"
        await pilot.press("escape")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EpisodesScreen)

    drive(app, body)
    assert _row(demo_db_path, eid, "status") == ("scheduled",)


def test_in_care_keeps_the_first_visit_on_file(app, drive, settle, demo_db_path):
    eid = _episode(demo_db_path, "evaluated", with_first_visit=True)
    first = _row(demo_db_path, eid, "first_visit_date")[0]

    async def body(pilot):
        form = await open_form(pilot, settle, eid)
        await choose(pilot, form, "in_care")
        assert not form.query_one("#rs-date").display  # nothing to ask
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EpisodesScreen)

    drive(app, body)
    assert _row(demo_db_path, eid, "status", "first_visit_date") == ("in_care", first)
