"""The partner screen's "By condition" tab: the pooled headline and time to recovery are the
core's own sentences for that partner, and every condition row the core returns is listed, with
its rate shown only where the core shows one."""

from __future__ import annotations

import sqlite3

from textual.widgets import DataTable, Static

from outcomes.periods import default_period
from outcomes.reports.partners import partner_conditions
from outcomes.reports.recovery import recovery_curve, recovery_sentence
from outcomes.store.database import open_db
from outcomes_tui.screens.partner_detail import PartnerDetailScreen
from tests.conftest import DEMO_TODAY
from tests.tui.conftest import wait_until


def test_by_condition_shows_the_cores_figures_for_the_partner(app, drive, demo_db_path):
    with sqlite3.connect(demo_db_path) as conn:
        pid = conn.execute("SELECT id FROM partners WHERE name = 'Dr. Chloe Dubois'"
                           ).fetchone()[0]
    db = open_db(demo_db_path)
    expected = partner_conditions(db.conn, pid, DEMO_TODAY)
    period = default_period(DEMO_TODAY)
    sentence = recovery_sentence(recovery_curve(db.conn, pid, period),
                                 recovery_curve(db.conn, None, period))
    db.conn.close()
    assert expected.rows and "of your patients reached" in expected.headline

    async def body(pilot):
        screen = PartnerDetailScreen(pid)
        await pilot.app.push_screen(screen)
        table = screen.query_one("#conditions", DataTable)
        await wait_until(pilot, lambda: table.row_count > 0)
        text = str(screen.query_one("#conditions-headline", Static).render())
        assert expected.headline in text and sentence in text
        names = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert names == [r.name for r in expected.rows]
        for i, row in enumerate(expected.rows):
            shown = str(table.get_row_at(i)[3])
            assert shown == ("fewer than min_n" if row.mine.mcid_rate is None
                             else f"{row.mine.mcid_rate:.0%}")

    drive(app, body, size=(140, 40))
