"""Back on the dashboard: read again only when the database changed meanwhile."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from outcomes.network import queue as core_queue
from outcomes_tui.app import OutcomesApp
from outcomes_tui.screens.dashboard import DashboardScreen
from tests.conftest import DEMO_TODAY


def _count_queue_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = core_queue.queue_stages

    def counted(db: Any, today: Any) -> Any:
        calls.append(1)
        return real(db, today)

    monkeypatch.setattr(core_queue, "queue_stages", counted)
    return calls


def test_back_with_nothing_written_keeps_what_is_on_screen(
        app: OutcomesApp, drive: Any, settle: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_queue_reads(monkeypatch)

    async def body(pilot: Any) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, DashboardScreen) and len(calls) == 1
        shown = [item.key for item in screen.rows]
        for away in ("f3", "f4"):  # partners, patients: they read, they do not write
            await pilot.press(away)
            await settle(pilot)
            await pilot.press("f2")
            await settle(pilot)
            assert pilot.app.screen is screen
        assert len(calls) == 1
        assert [item.key for item in screen.rows] == shown
        await pilot.press("r")  # asked for: always read again
        await settle(pilot)
        assert len(calls) == 2

    drive(app, body)


def test_back_after_a_write_elsewhere_reads_again_and_shows_it(
        app: OutcomesApp, drive: Any, settle: Any, demo_db_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_queue_reads(monkeypatch)

    async def body(pilot: Any) -> None:
        screen = pilot.app.screen
        overdue = screen.queue.items("touch_overdue")
        assert overdue, "the demo has overdue touches"
        partner = overdue[0].alert.partner_id
        await pilot.press("f3")
        await settle(pilot)
        # Another process (the command line) logs a call to that partner meanwhile.
        with sqlite3.connect(demo_db_path) as conn:
            conn.execute("INSERT INTO touchpoints (partner_id, date, method, summary,"
                         " created_at) VALUES (?, ?, 'phone', 'call', ?)",
                         [partner, DEMO_TODAY.isoformat(), f"{DEMO_TODAY}T09:00:00+00:00"])
        await pilot.press("f2")
        await settle(pilot)
        assert len(calls) == 2
        assert partner not in {i.alert.partner_id for i in screen.queue.items("touch_overdue")}

    drive(app, body)
