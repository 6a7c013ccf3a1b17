"""The dashboard's start: the numbers and the alert queue are read together, the chart and the
warm-up of the other screens wait for the queue (what the user came for)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from outcomes.network import queue as core_queue
from outcomes_tui import app as app_module
from outcomes_tui.app import OutcomesApp
from outcomes_tui.screens import dashboard
from outcomes_tui.widgets.plot import Plot

WAIT_S = 20.0


async def until(pilot: Any, condition: Callable[[], object]) -> None:
    """Let the app run until ``condition()`` holds (workers are gated here, so the usual
    wait for complete workers would hang)."""
    for _ in range(int(WAIT_S / 0.01)):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the dashboard never reached the expected state")


def test_the_queue_starts_with_the_numbers_and_the_chart_and_warm_up_wait_for_it(
        app: OutcomesApp, monkeypatch: pytest.MonkeyPatch) -> None:
    queue_started, queue_may_finish = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}
    real_queue, real_summary = core_queue.work_queue, dashboard.dashboard_summary

    def gated_queue(db: Any, today: Any) -> Any:
        queue_started.set()
        queue_may_finish.wait(WAIT_S)
        return real_queue(db, today)

    def summary_after_queue_start(db: Any, today: Any, **kwargs: Any) -> Any:
        # Started one after the other, the queue would only begin once these numbers were on
        # screen, and this wait would time out.
        seen["queue started before the numbers were read"] = queue_started.wait(WAIT_S)
        return real_summary(db, today, **kwargs)

    monkeypatch.setattr(core_queue, "work_queue", gated_queue)
    monkeypatch.setattr(dashboard, "dashboard_summary", summary_after_queue_start)
    monkeypatch.setattr(app_module, "WARM_UP_FALLBACK_S", 60.0)
    # Recorded, not looked for among the running workers: with its modules already imported
    # (other tests in this process), the warm-up ends before it could be seen.
    warmed = threading.Event()
    monkeypatch.setattr(app_module, "import_heavy_modules", warmed.set)

    def warm_up_started() -> bool:
        return warmed.is_set()

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, dashboard.DashboardScreen)
            plot = screen.query_one(Plot)
            await until(pilot, lambda: "…" not in str(screen.query_one("#kpi-partners").render()))
            assert seen == {"queue started before the numbers were read": True}
            await pilot.pause(0.3)
            assert screen.queue is None
            assert plot.series == [] and not warm_up_started()
            queue_may_finish.set()
            await until(pilot, lambda: screen.queue is not None)
            await until(pilot, lambda: plot.series)
            await until(pilot, warm_up_started)
            await app.workers.wait_for_complete()

    asyncio.run(main())


def test_a_queue_that_fails_leaves_the_chart_drawn(app: OutcomesApp,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_queue(db: Any, today: Any) -> Any:
        raise RuntimeError("the alert rules failed")

    monkeypatch.setattr(core_queue, "work_queue", failing_queue)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            plot = screen.query_one(Plot)
            await until(pilot, lambda: plot.series)
            assert screen.queue is None  # type: ignore[attr-defined]
            await app.workers.wait_for_complete()

    asyncio.run(main())
