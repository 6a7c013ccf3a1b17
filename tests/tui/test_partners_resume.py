"""The partners table on coming back to the screen: rebuilt only when what it shows changed
(issue 14: rebuilding 100 unchanged rows on every return stalled the interface)."""

from __future__ import annotations

import sqlite3

from textual.widgets import DataTable

from outcomes.network.touchpoints import log_touchpoint
from outcomes.store.database import open_db
from outcomes_tui.screens.partners import PartnersScreen
from tests.conftest import DEMO_TODAY


def test_the_table_is_rebuilt_only_when_its_rows_changed(app, drive, settle, demo_db_path):
    with sqlite3.connect(demo_db_path) as conn:
        first = conn.execute("SELECT id, name FROM partners ORDER BY name COLLATE NOCASE, id"
                             " LIMIT 1").fetchone()

    async def body(pilot):
        await pilot.press("f3")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, PartnersScreen)
        table = screen.query_one(DataTable)
        assert str(table.get_row_at(0)[0]) == first[1]
        clears = []
        original = table.clear

        def counting_clear(*args, **kwargs):
            clears.append(1)
            return original(*args, **kwargs)

        table.clear = counting_clear  # type: ignore[method-assign]
        # Away and back with nothing changed: the same rows, no rebuild.
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert pilot.app.screen is screen and clears == []
        assert table.row_count > 0 and str(table.get_row_at(0)[0]) == first[1]
        # A touchpoint logged elsewhere changes the partner's "Last touch": rebuilt.
        db = open_db(demo_db_path)
        log_touchpoint(db, first[0], {"partner_id": first[0], "date": DEMO_TODAY,
                                      "method": "call", "summary": "checked in"},
                       today=DEMO_TODAY)
        db.conn.close()
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert clears == [1]
        assert str(table.get_row_at(0)[5]) == DEMO_TODAY.isoformat()

    drive(app, body, size=(140, 40))
