"""Fixtures for the dashboard tests: the app on a copy of the demo database, at DEMO_TODAY.

No async plugin is installed, so ``drive(app, body)`` runs ``body(pilot)`` inside
``app.run_test()`` with ``asyncio.run``. ``settle(pilot)`` waits for every worker (never sleeps).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from outcomes_tui.app import OutcomesApp, make_app
from tests.conftest import DEMO_TODAY

Body = Callable[[Pilot[Any]], Awaitable[None]]


async def _settle(pilot: Pilot[Any]) -> None:
    for _ in range(5):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@pytest.fixture
def settle() -> Callable[[Pilot[Any]], Awaitable[None]]:
    return _settle


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], rounds: int = 2000) -> None:
    """Let the app run until ``condition()`` holds (a state, not a time): workers finish and
    messages are handled between checks. Fails the test if it never holds."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    raise AssertionError("the dashboard never reached the expected state")


@pytest.fixture
def app(demo_db_path: Path) -> OutcomesApp:
    return make_app(demo_db_path, today=DEMO_TODAY)


@pytest.fixture
def drive() -> Callable[..., None]:
    def run(app: OutcomesApp, body: Body, size: tuple[int, int] = (100, 30)) -> None:
        async def main() -> None:
            async with app.run_test(size=size) as pilot:
                await _settle(pilot)
                await body(pilot)

        asyncio.run(main())

    return run
