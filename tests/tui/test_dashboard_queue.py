"""The dashboard's alert queue by keyboard (filter, done, snooze, undo, each action key), the
first-run guide on an empty database, and charts with nothing to draw."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable, Input, Static

from outcomes.store.database import open_db
from outcomes_tui.app import make_app
from outcomes_tui.forms.communication import CommunicationForm
from outcomes_tui.forms.letter import LetterForm
from outcomes_tui.forms.touchpoint import TouchpointForm
from outcomes_tui.screens.dashboard import (
    MAX_ALERTS,
    DashboardScreen,
    clinic_name_form,
    kind_label,
)
from outcomes_tui.screens.partner_detail import PartnerDetailScreen
from outcomes_tui.widgets.plot import Plot, Series
from tests.conftest import DEMO_TODAY


def _text(widget: Static) -> str:
    return str(widget.render())


async def _show_kind(pilot, settle, kind: str | None) -> DashboardScreen:
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    for _ in range(12):
        if screen.kind == kind:
            return screen
        await pilot.press("f")
        await settle(pilot)
    raise AssertionError(f"f never showed {kind}")


def _states(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT key, state, until FROM alert_states ORDER BY key").fetchall()


def _expected_queue(path: Path):
    """The queue the core builds for the demo (what the dashboard must show)."""
    from outcomes.network.alerts import compute_alerts
    from outcomes.network.queue import build_queue

    db = open_db(path)
    try:
        return build_queue(compute_alerts(db, DEMO_TODAY), {}, DEMO_TODAY)
    finally:
        db.close()


def test_the_queue_groups_kinds_with_counts_and_f_cycles_through_them(app, drive, settle,
                                                                      demo_db_path):
    expected = _expected_queue(demo_db_path)
    owed = next(g for g in expected.groups if g.kind == "document_owed")
    first_screen = sum(min(5, g.count) for g in expected.groups)

    async def body(pilot):
        screen = pilot.app.screen
        table = screen.query_one("#alerts", DataTable)
        kinds_line = _text(screen.query_one("#queue-kinds", Static))
        assert owed.label in kinds_line and "6 touches overdue" in kinds_line
        # Every kind on the first screen: at most 5 of each, the most urgent kind first.
        shown = [row.kind for row in screen.rows]
        assert shown[0] == expected.kinds[0]
        assert shown.count("document_owed") == 5 and shown.count("touch_overdue") == 5
        assert "touch_overdue" in shown and "spend_limit" in shown
        assert table.row_count == len(shown) == first_screen
        assert f"{expected.total} to do" in str(screen.query_one("#queue").border_title)
        # f: one kind, all of it; again and again, back to every kind.
        await _show_kind(pilot, settle, "document_owed")
        assert table.row_count == min(owed.count, MAX_ALERTS)  # a page at most
        assert {row.kind for row in screen.rows} == {"document_owed"}
        assert owed.label in str(screen.query_one("#queue").border_title)
        await _show_kind(pilot, settle, None)
        assert table.row_count == first_screen

    drive(app, body)


def test_details_are_plain_words_and_columns_fit_their_content(app, drive, settle):
    async def body(pilot):
        screen = await _show_kind(pilot, settle, "touch_overdue")
        detail = _text(screen.query_one("#alert-detail", Static))
        assert "Last touch:" in detail and "days ago" in detail
        assert "=" not in detail and "_" not in detail
        assert "a: log the call or visit" in detail
        table = screen.query_one("#alerts", DataTable)
        what, partner, why = (table.columns[k].width for k in ("kind", "partner", "message"))
        assert what == max(len(kind_label(r.kind)) for r in screen.rows) == len("touch overdue")
        assert partner == max(len(r.alert.partner or "") for r in screen.rows)
        # The message takes the rest of the width, and no more (3 columns, 2 cells padding
        # each, the scrollbar).
        assert what + partner + why + 6 <= table.size.width
        assert why >= table.size.width - what - partner - 6 - 2
        labels = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert all("_" not in label for label in labels)

    drive(app, body)


def test_x_marks_done_and_it_stays_done_after_a_restart_U_brings_it_back(app, drive, settle,
                                                                         demo_db_path):
    picked: dict[str, str] = {}

    async def body(pilot):
        screen = await _show_kind(pilot, settle, "touch_overdue")
        item = screen.rows[0]
        picked["key"], picked["partner"] = item.key, item.alert.partner or ""
        await pilot.press("x")
        await settle(pilot)
        assert item.key not in [r.key for r in screen.rows]
        assert len(screen.rows) == 5
        assert "1 done hidden" in str(screen.query_one("#queue").border_title)

    drive(app, body)
    assert _states(demo_db_path) == [(picked["key"], "done", None)]

    async def after_restart(pilot):
        screen = await _show_kind(pilot, settle, "touch_overdue")
        assert picked["key"] not in [r.key for r in screen.rows]
        await pilot.press("x")   # another one, then undo that one
        await settle(pilot)
        assert len(screen.rows) == 4
        await pilot.press("U")
        await settle(pilot)
        assert len(screen.rows) == 5

    drive(make_app(demo_db_path, today=DEMO_TODAY + timedelta(days=3)), after_restart)
    # The first stays done; the undone one left no state.
    assert _states(demo_db_path) == [(picked["key"], "done", None)]


def test_z_snoozes_for_seven_days(app, drive, settle, demo_db_path):
    picked: dict[str, str] = {}

    async def body(pilot):
        screen = await _show_kind(pilot, settle, "touch_overdue")
        picked["key"] = screen.rows[0].key
        await pilot.press("z")
        await settle(pilot)
        assert picked["key"] not in [r.key for r in screen.rows]
        assert "1 snoozed hidden" in str(screen.query_one("#queue").border_title)

    drive(app, body)
    until = (DEMO_TODAY + timedelta(days=7)).isoformat()
    assert _states(demo_db_path) == [(picked["key"], "snoozed", until)]

    def keys_on(day: int) -> list[str]:
        found: list[str] = []

        async def look(pilot):
            screen = await _show_kind(pilot, settle, "touch_overdue")
            found.extend(r.key for r in screen.rows)

        drive(make_app(demo_db_path, today=DEMO_TODAY + timedelta(days=day)), look)
        return found

    assert picked["key"] not in keys_on(6)
    assert picked["key"] in keys_on(7)


def test_a_does_each_kinds_action(app, drive, settle):
    async def body(pilot):
        # Touch overdue: the touchpoint form, for that partner.
        screen = await _show_kind(pilot, settle, "touch_overdue")
        partner = screen.rows[0].alert.partner
        await pilot.press("a")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, TouchpointForm) and form.partner == partner
        await pilot.press("escape")
        await settle(pilot)
        # A letter owed: the letter form, for that episode and that document.
        screen = await _show_kind(pilot, settle, "document_owed")
        episode = screen.rows[0].alert.episode_id
        document = screen.rows[0].alert.evidence["document"]
        await pilot.press("a")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, LetterForm) and form.episode_id == episode
        assert form.kind == {"evaluation_summary": "evaluation", "plan_of_care": "evaluation",
                             "progress_note": "progress",
                             "discharge_summary": "discharge"}[document]
        await pilot.press("escape")
        await settle(pilot)
        # A spend warning: the partner.
        screen = await _show_kind(pilot, settle, "spend_limit")
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PartnerDetailScreen)
        assert pilot.app.screen.partner_id == screen.rows[0].alert.partner_id

    drive(app, body)


def test_l_t_u_and_enter_on_a_letter_owed(app, drive, settle):
    async def body(pilot):
        screen = await _show_kind(pilot, settle, "document_owed")
        item = screen.rows[0]
        for key, form_type in (("l", LetterForm), ("t", TouchpointForm),
                               ("u", CommunicationForm)):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(pilot.app.screen, form_type), key
            await pilot.press("escape")
            await settle(pilot)
            assert pilot.app.screen is screen
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PartnerDetailScreen)
        assert pilot.app.screen.partner_id == item.alert.partner_id

    drive(app, body)


def test_writing_the_owed_letter_records_it_as_made_not_sent(app, drive, settle, tmp_path,
                                                            demo_db_path):
    """A letter made is not a letter sent: the alert stays until it is marked sent, and the
    communication log holds the letter as made."""
    made: dict[str, str] = {}

    async def body(pilot):
        screen = await _show_kind(pilot, settle, "document_owed")
        key = screen.rows[0].key
        made["episode"] = str(screen.rows[0].alert.episode_id)
        before = len(screen.rows)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(pilot.app.screen, LetterForm)
        path = pilot.app.screen.query_one("#letter-path", Input)
        path.value = str(tmp_path / "letter.md")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert (tmp_path / "letter.md").exists()
        assert key in [r.key for r in screen.rows] and len(screen.rows) == before

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        statuses = [r[0] for r in conn.execute(
            "SELECT status FROM communications WHERE episode_id = ?", [made["episode"]])]
    assert statuses[-1] == "made"


# ------------------------------------------------------------------ first run


def test_an_empty_database_opens_on_the_guide_and_n_names_the_clinic(drive, settle, tmp_path):
    path = tmp_path / "new.db"
    open_db(path).close()

    async def body(pilot):
        screen = pilot.app.screen
        assert isinstance(screen, DashboardScreen)
        guide = screen.query_one("#guide", Static)
        assert guide.display and not screen.query_one("#queue").display
        assert not screen.query_one("#chart").display
        text = _text(guide)
        assert "Name the clinic" in text and "then ctrl+n for a new partner" in text
        assert "then ctrl+n for a new referral" in text and "done:" not in text
        await pilot.press("x")   # the queue's keys do nothing here
        await settle(pilot)
        assert pilot.app.screen is screen
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, clinic_name_form())
        await pilot.press("ctrl+s")   # nothing typed: refused, the form stays
        await settle(pilot)
        assert pilot.app.screen is form
        assert "Type the clinic's name" in _text(form.query_one("#form-error", Static))
        for ch in "Riverside PT":
            await pilot.press("space" if ch == " " else ch)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert "done: Name the clinic (now 'Riverside PT')" in _text(guide)

    drive(make_app(path, today=DEMO_TODAY), body)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM settings WHERE key = 'clinic_name'"
                            ).fetchall() == [('"Riverside PT"',)]


def test_with_a_partner_the_dashboard_shows_and_names_the_next_step(drive, settle, tmp_path):
    path = tmp_path / "new.db"
    db = open_db(path)
    from outcomes.network.queue import name_clinic

    name_clinic(db, "Riverside PT")
    db.execute("INSERT INTO partners (name, kind, stage, stage_source, created_at, updated_at)"
               " VALUES ('Dr. New', 'primary care', 'prospect', 'user', ?, ?)",
               [f"{DEMO_TODAY}T09:00:00+00:00"] * 2)
    db.close()

    async def body(pilot):
        screen = pilot.app.screen
        assert not screen.query_one("#guide").display and screen.query_one("#queue").display
        assert "Next: Record a referral" in _text(screen.query_one("#alert-detail", Static))
        chart = screen.query_one(Plot)
        assert "no data yet" in str(chart.render())

    drive(make_app(path, today=DEMO_TODAY), body)


def test_bars_of_zero_are_no_data_but_a_line_at_zero_is():
    plot = Plot("Referrals")
    plot.series, plot.message = [Series(["2026-10", "2026-11"], [0.0, 0.0])], "no data yet"
    assert not plot.has_data()
    assert plot.build_text(60, 10) == Text("no data yet", style="dim")
    plot.series = [Series(["a", "b"], [0.0, 0.0], kind="line")]
    assert plot.has_data()
    plot.series = [Series(["a", "b"], [0.0, 1.0])]
    assert plot.has_data()
    plot.series = []
    assert not plot.has_data()


def test_back_on_the_dashboard_after_the_first_partner_the_guide_gives_way(drive, settle,
                                                                          tmp_path):
    path = tmp_path / "new.db"
    open_db(path).close()

    async def body(pilot):
        screen = pilot.app.screen
        assert screen.query_one("#guide").display
        await pilot.press("f3")
        await settle(pilot)
        # A partner arrives while the user is elsewhere (an import, the command line).
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO partners (name, kind, stage, stage_source, created_at,"
                         " updated_at) VALUES ('Dr. New', 'primary care', 'prospect', 'user',"
                         " ?, ?)", [f"{DEMO_TODAY}T09:00:00+00:00"] * 2)
        await pilot.press("f2")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert not screen.query_one("#guide").display and screen.query_one("#queue").display

    drive(make_app(path, today=DEMO_TODAY), body)
