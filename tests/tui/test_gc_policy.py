"""The dashboard's garbage-collector policy (``outcomes_tui.app.CollectorPolicy``): after the
first screen and the warm-up, the start-up heap is frozen and automatic full collections are
pushed away; a full collection runs when the user is idle and frees closed screens. The idle
hook is called directly with a chosen clock value: nothing here waits for wall-clock time."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from outcomes_tui.app import GC_FULL_THRESHOLD, GC_IDLE_S, CollectorPolicy, OutcomesApp
from outcomes_tui.screens.help import HelpScreen
from tests.tui.conftest import wait_until


def _full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def test_the_policy_is_on_after_the_first_screen_and_given_back_at_exit(
        app: OutcomesApp, drive: Callable[..., None]) -> None:
    before_threshold, before_frozen = gc.get_threshold(), gc.get_freeze_count()
    seen: dict[str, Any] = {}

    async def body(pilot: Any) -> None:
        await wait_until(pilot, lambda: app.collector.on)
        seen["queue shown"] = getattr(app.screen, "queue", None) is not None
        seen["enabled"] = gc.isenabled()
        seen["threshold"] = gc.get_threshold()
        seen["frozen"] = gc.get_freeze_count()

    drive(app, body)
    assert seen["queue shown"], "the policy started before the dashboard showed its queue"
    assert seen["enabled"], "young collections must keep running"
    assert seen["threshold"] == (*before_threshold[:2], GC_FULL_THRESHOLD)
    assert seen["frozen"] > before_frozen
    # The process (here the test run) gets CPython's policy back when the app closes.
    assert gc.get_threshold() == before_threshold
    assert gc.get_freeze_count() == before_frozen


def test_an_idle_collection_runs_only_when_idle_and_frees_a_closed_screen(
        app: OutcomesApp, drive: Callable[..., None], settle: Any) -> None:
    seen: dict[str, Any] = {}

    async def body(pilot: Any) -> None:
        await wait_until(pilot, lambda: app.collector.on)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        closed = weakref.ref(app.screen)
        typed_at = app.collector.last_input
        await pilot.press("escape")
        await settle(pilot)
        seen["a key counts as input"] = app.collector.last_input > typed_at
        gc.collect(1)  # a young collection: what survived it now waits for a full one
        idle_from = app.collector.last_input + GC_IDLE_S
        full = _full_collections()
        seen["too soon"] = app.collect_if_idle(now=idle_from - 0.01)
        seen["no full collection too soon"] = _full_collections() == full

        release = threading.Event()
        app.run_worker(lambda: release.wait(30), thread=True, group="test-busy")
        seen["while a worker runs"] = app.collect_if_idle(now=idle_from + 60)
        release.set()
        await settle(pilot)

        seen["idle"] = app.collect_if_idle(now=idle_from)
        seen["full collections"] = _full_collections() - full
        seen["closed screen freed"] = closed() is None
        # Nothing reached the oldest generation since: no second walk of the heap.
        seen["again with nothing new"] = app.collect_if_idle(now=idle_from + 60)

    drive(app, body)
    assert seen["a key counts as input"]
    assert seen["too soon"] is False and seen["no full collection too soon"]
    assert seen["while a worker runs"] is False
    assert seen["idle"] is True and seen["full collections"] == 1
    assert seen["closed screen freed"]
    assert seen["again with nothing new"] is False


@pytest.mark.parametrize(("quiet_s", "busy", "expected"), [
    (GC_IDLE_S - 0.25, False, False),  # a key pressed just under GC_IDLE_S ago
    (GC_IDLE_S, False, True),  # exactly GC_IDLE_S: idle
    (GC_IDLE_S + 0.25, False, True),
    (GC_IDLE_S + 0.25, True, False),  # a worker runs: it may be holding the lock on work
])
def test_due_at_the_idle_boundary(quiet_s: float, busy: bool, expected: bool) -> None:
    policy = CollectorPolicy()
    assert policy.due(1000.0, busy=False) is False  # not started: never
    before = gc.get_threshold()
    policy.start()
    try:
        policy.last_input = 100.0
        gc.collect(1)  # something new in the oldest generation
        assert policy.due(100.0 + quiet_s, busy=busy) is expected
        policy.collect()
        assert policy.due(100.0 + quiet_s, busy=busy) is False  # collected: nothing new
    finally:
        policy.stop()
    assert gc.get_threshold() == before
    assert policy.due(1000.0, busy=False) is False


def test_the_collector_is_paused_until_the_first_complete_screen(
        app: OutcomesApp, drive: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> None:
    """run_path pauses automatic collection for the start; the dashboard's first complete
    screen (DashboardShown) gives it back, before the warm-up and the policy."""
    from outcomes_tui import app as app_module
    from outcomes_tui.messages import DashboardShown

    monkeypatch.setattr(app_module, "START_GC_PAUSE_S", 60.0)  # only the screen resumes it
    seen: dict[str, bool] = {}
    real = OutcomesApp.on_dashboard_shown

    def shown(self: OutcomesApp, message: DashboardShown) -> None:
        seen["paused until shown"] = not gc.isenabled()
        real(self, message)
        seen["resumed when shown"] = gc.isenabled()

    monkeypatch.setattr(OutcomesApp, "on_dashboard_shown", shown)
    assert gc.isenabled()
    app.collector.pause()
    try:
        assert not gc.isenabled()

        async def body(pilot: Any) -> None:
            await wait_until(pilot, lambda: "resumed when shown" in seen)

        drive(app, body)
    finally:
        gc.enable()  # whatever happened, the rest of the session collects
    assert seen == {"paused until shown": True, "resumed when shown": True}
