"""Patients screen keys: down or Escape in the search box moves to the results (at once, a
priority binding), and on the results down still moves the cursor (the binding stands aside
there)."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from outcomes_tui.screens.episodes import EpisodesScreen
from tests.tui.conftest import wait_until


def test_down_leaves_the_search_box_then_moves_the_cursor(app, drive):
    async def body(pilot):
        await pilot.press("e")
        screen = pilot.app.screen
        assert isinstance(screen, EpisodesScreen)
        table = screen.query_one("#episodes", DataTable)
        search = screen.query_one("#search", Input)
        await wait_until(pilot, lambda: table.row_count > 3)
        screen.set_focus(search)
        await pilot.press("down")
        assert screen.focused is table
        start = table.cursor_row
        await pilot.press("down", "down")
        await wait_until(pilot, lambda: table.cursor_row == start + 2)
        assert screen.focused is table
        await pilot.press("slash")
        assert screen.focused is search
        await pilot.press("escape")
        assert screen.focused is table

    drive(app, body)
