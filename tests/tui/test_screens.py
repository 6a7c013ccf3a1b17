"""Pilot tests of each screen's main job, on the demo clinic at DEMO_TODAY."""

from __future__ import annotations

import sqlite3

from textual.widgets import DataTable

from outcomes_tui.forms.touchpoint import TouchpointForm
from outcomes_tui.screens.dashboard import DashboardScreen
from outcomes_tui.screens.help import HelpScreen
from outcomes_tui.screens.partner_detail import PartnerDetailScreen


def _cells(table: DataTable, column: int) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


def test_dashboard_shows_the_fading_partner_alert(app, drive, settle):
    async def body(pilot):
        screen = pilot.app.screen
        assert isinstance(screen, DashboardScreen)
        table = screen.query_one("#alerts", DataTable)
        rows = [(str(table.get_row_at(i)[0]), str(table.get_row_at(i)[1]))
                for i in range(table.row_count)]
        assert ("at risk", "Dr. Margaret Hale") in rows
        assert "NPS" in str(screen.query_one("#kpi-nps").render())

    drive(app, body)


def test_enter_on_an_alert_opens_its_partner_and_t_logs_a_touchpoint(app, drive, settle,
                                                                     demo_db_path):
    async def body(pilot):
        screen = pilot.app.screen
        table = screen.query_one("#alerts", DataTable)
        names = _cells(table, 1)
        table.move_cursor(row=names.index("Dr. Margaret Hale"))
        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen
        assert isinstance(detail, PartnerDetailScreen)
        assert "Dr. Margaret Hale" in str(detail.query_one("#contact").render())
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TouchpointForm)
        for ch in "Lunch visit":
            await pilot.press("space" if ch == " " else ch)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PartnerDetailScreen)

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        rows = conn.execute(
            "SELECT t.date, t.method, t.summary FROM touchpoints t JOIN partners p"
            " ON p.id = t.partner_id WHERE p.name = 'Dr. Margaret Hale' AND t.summary = ?",
            ["Lunch visit"]).fetchall()
    assert rows == [("2026-11-22", "phone", "Lunch visit")]


def test_filtering_partners_narrows_the_table(app, drive, settle):
    async def body(pilot):
        await pilot.press("p")
        await settle(pilot)
        table = pilot.app.screen.query_one("#partners", DataTable)
        everyone = table.row_count
        assert everyone == 40
        assert "40 of 40" in str(table.border_title)
        for ch in "hale":
            await pilot.press(ch)
        await settle(pilot)
        assert _cells(table, 0) == ["Dr. Margaret Hale"]
        assert "1 of 40" in str(table.border_title)
        await pilot.press("ctrl+o")  # sort by the next column (kind)
        await settle(pilot)
        assert "sorted by kind" in str(table.border_title)

    drive(app, body)


def test_outbound_referral_needs_a_rationale(app, drive, settle):
    async def body(pilot):
        pilot.app.push_screen(PartnerDetailScreen(1))
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        form = pilot.app.screen
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form
        assert "rationale is required" in str(form.query_one("#form-error").render())

    drive(app, body)


def test_help_lists_the_keys_of_the_screen_underneath(app, drive, settle):
    async def body(pilot):
        await pilot.press("f1")
        await settle(pilot)
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        ids = _cells(help_screen.query_one(DataTable), 2)
        assert "dashboard.log_touchpoint" in ids and "app.help" in ids
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, DashboardScreen)

    drive(app, body)


def test_theme_toggles_between_light_and_dark(app, drive, settle):
    async def body(pilot):
        assert pilot.app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert pilot.app.theme == "textual-light"

    drive(app, body)


def test_every_screen_opens_at_100x30_without_errors(app, drive, settle):
    async def body(pilot):
        # Function keys switch screens even while a text field has the focus.
        seen = []
        for key in ["f3", "f4", "f6", "f7", "f2"]:
            await pilot.press(key)
            await settle(pilot)
            seen.append(type(pilot.app.screen).__name__)
        assert seen == ["PartnersScreen", "EpisodesScreen", "ImportScreen", "PacketsScreen",
                        "DashboardScreen"]

    drive(app, body)


def test_l_makes_a_letter_for_the_selected_episode_and_logs_it(app, drive, settle, demo_db_path,
                                                               tmp_path):
    from textual.widgets import Input

    from outcomes_tui.forms.letter import LetterForm

    out = tmp_path / "hale-letter.md"

    async def body(pilot):
        await pilot.press("f4")
        await settle(pilot)
        for key in ["E", "0", "0", "0", "0", "1", "enter"]:
            await pilot.press(key)
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, LetterForm)
        assert str(form.query_one("#letter-path", Input).value).endswith(".pdf")
        form.query_one("#letter-path", Input).value = str(out)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, LetterForm)

    drive(app, body)
    assert out.exists() and (out.stat().st_mode & 0o777) == 0o600
    text = out.read_text(encoding="utf-8")
    assert "E00001" in text and "Dr. Margaret Hale" in text
    with sqlite3.connect(demo_db_path) as conn:
        rows = conn.execute(
            "SELECT kind, date FROM communications WHERE episode_id = 'E00001' AND note LIKE ?",
            ["%(md)"]).fetchall()
    assert rows == [("discharge_summary", "2026-11-22")]


def test_a_screen_opened_after_a_theme_change_uses_the_new_theme(app, drive, settle):
    """New screens skip Textual's global restyle (for speed); they must still get the theme
    that is current when they open."""

    async def body(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        dark_background = pilot.app.screen.styles.background
        await pilot.press("ctrl+t")  # light theme
        await settle(pilot)
        light_dashboard = pilot.app.screen.styles.background
        assert light_dashboard != dark_background
        await pilot.press("f3")  # partners: a screen created after the change
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "PartnersScreen"
        assert pilot.app.screen.styles.background == light_dashboard

    drive(app, body)
