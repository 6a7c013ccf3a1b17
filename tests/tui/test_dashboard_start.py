"""The dashboard's start: the numbers and the alert queue are read together, the chart and the
warm-up of the other screens wait for the queue (what the user came for)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from outcomes.network import queue as core_queue
from outcomes.reports import dashboard as core_dashboard
from outcomes.reports import first_screen
from outcomes.reports.dashboard import database_version
from outcomes.store.connections import Connections
from outcomes_tui import app as app_module
from outcomes_tui.app import OutcomesApp, make_app
from outcomes_tui.screens import dashboard
from outcomes_tui.widgets.plot import Plot
from tests.conftest import DEMO_TODAY

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
    real_queue, real_summary = core_queue.queue_stages, core_dashboard.dashboard_summary

    def gated_queue(db: Any, today: Any) -> Any:
        queue_started.set()
        queue_may_finish.wait(WAIT_S)
        yield from real_queue(db, today)

    def summary_after_queue_start(db: Any, today: Any, **kwargs: Any) -> Any:
        # Started one after the other, the queue would only begin once these numbers were on
        # screen, and this wait would time out.
        seen["queue started before the numbers were read"] = queue_started.wait(WAIT_S)
        return real_summary(db, today, **kwargs)

    monkeypatch.setattr(core_queue, "queue_stages", gated_queue)
    monkeypatch.setattr(core_dashboard, "dashboard_summary", summary_after_queue_start)
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

    monkeypatch.setattr(core_queue, "queue_stages", failing_queue)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            plot = screen.query_one(Plot)
            await until(pilot, lambda: plot.series)
            assert screen.queue is None  # type: ignore[attr-defined]
            await app.workers.wait_for_complete()

    asyncio.run(main())


def _rows(screen: dashboard.DashboardScreen) -> list[tuple[str, str]]:
    return [(item.key, item.alert.message) for item in screen.rows]


def _gated_after_first_part(monkeypatch: pytest.MonkeyPatch, fail: bool = False
                            ) -> tuple[threading.Event, list[Any]]:
    """queue_stages held after its first partial queue until the returned event is set;
    the stages it yielded are recorded. Partial queues shown however fast they come."""
    go_on = threading.Event()
    seen: list[Any] = []
    real = core_queue.queue_stages

    def held(db: Any, today: Any) -> Any:
        for queue in real(db, today):
            seen.append(queue)
            yield queue
            if not queue.complete and len(seen) == 1:
                go_on.wait(WAIT_S)
                if fail:
                    raise RuntimeError("the alert rules failed")

    monkeypatch.setattr(core_queue, "queue_stages", held)
    monkeypatch.setattr(dashboard.DashboardScreen, "PARTIAL_AFTER_S", 0.0)
    return go_on, seen


def test_the_first_rows_show_while_the_rest_loads_then_the_whole_queue(
        app: OutcomesApp, monkeypatch: pytest.MonkeyPatch) -> None:
    go_on, seen = _gated_after_first_part(monkeypatch)
    warmed = threading.Event()
    monkeypatch.setattr(app_module, "import_heavy_modules", warmed.set)
    monkeypatch.setattr(app_module, "WARM_UP_FALLBACK_S", 60.0)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, dashboard.DashboardScreen)
            await until(pilot, lambda: screen.queue is not None)
            partial = seen[0]
            assert screen.queue is partial and screen.queue_loading
            # The first kinds' rows, exactly those the whole queue starts with.
            assert [g.kind for g in partial.groups] == ["patient_worsening"]
            box = screen.query_one("#queue")
            assert "loading the rest" in str(box.border_title)
            assert str(screen.query_one("#queue-kinds").render()).endswith("· …")
            first_rows = _rows(screen)
            assert first_rows
            # f would cycle through some kinds only: refused while loading.
            await pilot.press("f")
            await pilot.pause(0.05)
            assert screen.kind is None and _rows(screen) == first_rows
            # Neither the chart nor the warm-up start before the whole queue.
            await pilot.pause(0.3)
            assert screen.query_one(Plot).series == [] and not warmed.is_set()
            go_on.set()
            await until(pilot, lambda: screen.queue is not None and screen.queue.complete)
            whole = core_queue.work_queue(app.reader(), app.today)
            assert [(g.kind, g.count) for g in screen.queue.groups] == \
                [(g.kind, g.count) for g in whole.groups]
            assert _rows(screen)[:len(first_rows)] == first_rows
            assert [k for k, _ in _rows(screen)] == \
                [i.key for g in whole.groups for i in g.items[:dashboard.PREVIEW]]
            assert "loading" not in str(box.border_title)
            await until(pilot, lambda: screen.query_one(Plot).series)
            await until(pilot, warmed.is_set)
            await app.workers.wait_for_complete()

    asyncio.run(main())


def test_done_on_a_first_row_while_loading_is_kept_and_not_undone_by_the_old_read(
        app: OutcomesApp, monkeypatch: pytest.MonkeyPatch) -> None:
    go_on, _ = _gated_after_first_part(monkeypatch)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, dashboard.DashboardScreen)
            await until(pilot, lambda: screen.queue is not None)
            assert screen.queue_loading
            key = screen.rows[0].key
            await pilot.press("x")
            # The done read starts a new read of the queue; the first read, still held,
            # must not bring its queue (with the alert still open) back on screen.
            await until(pilot, lambda: screen.queue is not None and screen.queue.complete)
            go_on.set()
            await app.workers.wait_for_complete()
            await pilot.pause(0.1)
            assert screen.queue.complete
            assert key not in {item.key for item in screen.queue.items()}
            assert screen.queue.done == 1
            stored = app.reader().execute("SELECT state FROM alert_states WHERE key = ?",
                                          [key]).fetchall()
            assert stored == [("done",)]

    asyncio.run(main())


def test_a_queue_that_fails_after_its_first_rows_says_so(
        app: OutcomesApp, monkeypatch: pytest.MonkeyPatch) -> None:
    go_on, _ = _gated_after_first_part(monkeypatch, fail=True)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, dashboard.DashboardScreen)
            await until(pilot, lambda: screen.queue is not None)
            go_on.set()
            plot = screen.query_one(Plot)
            await until(pilot, lambda: plot.series)
            assert screen.queue_loading
            assert "failed to load" in str(screen.query_one("#queue").border_title)
            await app.workers.wait_for_complete()

    asyncio.run(main())


def _reads_recorded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The dashboard's own reads, recorded as they run."""
    ran: list[str] = []
    real_summary, real_mcid = first_screen.summary_reads, core_dashboard.dashboard_mcid
    real_stages = core_queue.queue_stages

    def summary(db: Any, today: Any) -> Any:
        ran.append("summary")
        return real_summary(db, today)

    def mcid(db: Any, today: Any) -> Any:
        ran.append("mcid")
        return real_mcid(db, today)

    def stages(db: Any, today: Any) -> Any:
        ran.append("queue")
        yield from real_stages(db, today)

    monkeypatch.setattr(dashboard, "summary_reads", summary)
    monkeypatch.setattr(dashboard, "dashboard_mcid", mcid)
    monkeypatch.setattr(core_queue, "queue_stages", stages)
    return ran


def test_what_the_child_handed_over_is_on_the_first_frame_and_not_read_again(
        demo_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_screen, "can_fork", lambda path: True)
    first = first_screen.start_first_screen(demo_db_path, DEMO_TODAY)
    assert first is not None and first.ended.wait(WAIT_S)
    ran = _reads_recorded(monkeypatch)
    app = make_app(demo_db_path, first_screen=first)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, dashboard.DashboardScreen)
            # Set in the screen's on_mount, before any worker could post a message.
            assert screen.queue is first.queue and screen.queue is not None
            assert screen.queue.complete and screen.first == first.summary[0]  # type: ignore[index]
            assert screen._version == first.version
            assert "…" not in "".join(str(screen.query_one(f"#kpi-{k}").render())
                                      for k in ("month", "partners", "mcid", "nps"))
            assert [k for k, _ in _rows(screen)] == \
                [i.key for g in screen.queue.groups for i in g.items[:dashboard.PREVIEW]]
            await pilot.pause()
            await app.workers.wait_for_complete()
            assert ran == []
            assert app.take_first_screen() is None  # taken once: r reads for itself
            await pilot.press("r")
            await until(pilot, lambda: sorted(ran) == ["mcid", "queue", "summary"])
            await app.workers.wait_for_complete()

    asyncio.run(main())


def test_a_partial_queue_handed_over_is_shown_then_the_dashboard_reads_the_whole(
        demo_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A child that ended after handing over the first kinds of a queue too big for the rest
    # (and nothing else): the dashboard shows those kinds, reads the numbers and the whole
    # queue itself, and shows the whole.
    conn = sqlite3.connect(demo_db_path)
    try:
        partial = next(q for q in core_queue.queue_stages(conn, DEMO_TODAY) if not q.complete)
        whole = core_queue.work_queue(conn, DEMO_TODAY)
    finally:
        conn.close()
    connections = Connections(demo_db_path)
    first = first_screen.FirstScreen(connections, DEMO_TODAY,
                                     database_version(connections.reader()), queue=partial)
    first.ended.set()
    ran = _reads_recorded(monkeypatch)
    shown: list[Any] = []  # the queues filled in, in order (the whole may come at once)
    real_loaded = dashboard.DashboardScreen.on_queue_loaded

    def loaded(self: dashboard.DashboardScreen, message: Any) -> None:
        shown.append(message.queue)
        real_loaded(self, message)

    monkeypatch.setattr(dashboard.DashboardScreen, "on_queue_loaded", loaded)
    app = make_app(demo_db_path, first_screen=first)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, dashboard.DashboardScreen)
            await until(pilot, lambda: screen.queue is not None and screen.queue.complete)
            assert shown[0] is partial  # in the screen's on_mount, before any worker
            assert screen.queue == whole and shown[-1] is screen.queue
            await app.workers.wait_for_complete()
            assert sorted(ran) == ["mcid", "queue", "summary"]
            assert "…" not in str(screen.query_one("#kpi-mcid").render())

    asyncio.run(main())


def test_the_first_frame_waits_for_the_reads_but_not_for_ever(
        app: OutcomesApp, monkeypatch: pytest.MonkeyPatch) -> None:
    # One paint of the whole screen instead of placeholders, then numbers, then the queue; a
    # read that takes too long does not keep the screen blank.
    go_on = threading.Event()
    real = core_queue.queue_stages

    def held(db: Any, today: Any) -> Any:
        go_on.wait(WAIT_S)
        yield from real(db, today)

    monkeypatch.setattr(core_queue, "queue_stages", held)
    # Long enough for a loaded machine to mount the screen first; short for the test.
    monkeypatch.setattr(dashboard, "FIRST_PAINT_MAX_S", 6.0)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, dashboard.DashboardScreen)
            # Textual's own batch (App.batch_update) is what keeps frames from being drawn.
            assert screen._hold is not None and app._batch_count == 1
            await until(pilot, lambda: "…" not in str(screen.query_one("#kpi-mcid").render()))
            assert screen._hold is not None and screen.queue is None  # the queue is missing
            # Held, the body is hidden: never laid out (or rendered) with its placeholders.
            body, table = screen.query_one("#body"), screen.query_one("#alerts")
            assert not body.display and table.size.width == 0
            await until(pilot, lambda: screen._hold is None)  # FIRST_PAINT_MAX_S passed
            assert app._batch_count == 0 and screen.queue is None and body.display
            await until(pilot, lambda: table.size.width > 0)  # laid out once released
            go_on.set()
            await until(pilot, lambda: screen.queue is not None and screen.queue.complete)
            await app.workers.wait_for_complete()

    asyncio.run(main())


def test_the_first_frame_is_released_as_soon_as_everything_is_in(
        app: OutcomesApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "FIRST_PAINT_MAX_S", 60.0)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, dashboard.DashboardScreen)
            await until(pilot, lambda: screen.queue is not None and screen.queue.complete)
            await pilot.pause()
            assert screen._hold is None and app._batch_count == 0
            assert screen.query_one("#body").display
            await app.workers.wait_for_complete()

    asyncio.run(main())
