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


def test_the_recovery_chart_stops_where_the_packets_does(app, drive, demo_db_path):
    """The screen plots the packet's lines, week for week: each stops where fewer than min_n
    of the patients are still followed (on the demo, weeks before the 26-week horizon)."""
    from outcomes.documents.packets import build_packet
    from outcomes.reports.recovery import WEEKS
    from outcomes_tui.widgets.plot import Plot

    with sqlite3.connect(demo_db_path) as conn:
        pid = conn.execute("SELECT id FROM partners WHERE name = 'Dr. Chloe Dubois'"
                           ).fetchone()[0]
    db = open_db(demo_db_path)
    period = default_period(DEMO_TODAY)
    packet = build_packet(db, pid, period.start, period.end, today=DEMO_TODAY)
    db.conn.close()
    lines = packet.figures["recovery"]["chart"]
    assert lines["mine"] is not None and len(lines["mine"]) < WEEKS + 1
    expected = [line for line in (lines["mine"], lines["clinic"]) if line is not None]

    async def body(pilot):
        screen = PartnerDetailScreen(pid)
        await pilot.app.push_screen(screen)
        await wait_until(pilot, lambda: screen.recovery is not None)
        plot = screen.query_one("#chart-recovery", Plot)
        assert [list(s.y) for s in plot.series] == expected
        longest = list(range(max(len(v) for v in expected)))
        assert [list(s.x) for s in plot.series] == [longest] * len(expected)

    drive(app, body, size=(140, 40))
