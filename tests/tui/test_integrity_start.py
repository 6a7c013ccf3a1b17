"""The integrity check of a small file runs once the dashboard's first screen is up
(outcomes_tui.integrity): a damaged file still gets its message and no write lands; a write
asked for during the check waits for it."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from outcomes.store import database
from outcomes.store.database import DamagedDatabase
from outcomes_tui.app import OutcomesApp, make_app
from outcomes_tui.screens.dashboard import DashboardScreen
from tests.conftest import DEMO_TODAY
from tests.store.test_open_checks import corrupt_a_page
from tests.tui.tmux import OUTCOMES, dashboard

WAIT_S = 20.0


async def until(pilot: Any, condition: Callable[[], object]) -> None:
    """Let the app run until ``condition()`` holds (the check is gated in one test, so the
    usual wait for complete workers would hang)."""
    for _ in range(int(WAIT_S / 0.01)):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the dashboard never reached the expected state")


def _states(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT key, state FROM alert_states ORDER BY key").fetchall()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_damaged_small_file_shows_the_message_and_takes_no_write(demo_db_path: Path) -> None:
    corrupt_a_page(demo_db_path)
    before = _digest(demo_db_path)
    app = make_app(demo_db_path, today=DEMO_TODAY)
    seen: dict[str, Any] = {}

    def try_a_write() -> None:
        try:
            app.db()
        except DamagedDatabase as exc:
            seen["write"] = exc

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            await until(pilot, lambda: not isinstance(app.screen, DashboardScreen))
            message = str(app.screen.query_one("#damaged", Static).render())
            assert "is damaged" in message and ".recover" in message
            # The dashboard's keys no longer act: mark done, another screen, a survey.
            for key in ("x", "z", "p", "s"):
                await pilot.press(key)
                await pilot.pause()
                assert app.screen.query("#damaged")
            writer = threading.Thread(target=try_a_write)
            writer.start()
            writer.join(WAIT_S)
            await app.workers.wait_for_complete()

    asyncio.run(main())
    assert isinstance(seen.get("write"), DamagedDatabase)
    assert _digest(demo_db_path) == before  # nothing was written into it


def test_a_write_during_the_check_waits_for_it(app: OutcomesApp, demo_db_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    started, may_finish = threading.Event(), threading.Event()
    real_check = database.check_small_file

    def slow_check(path: Path) -> None:
        started.set()
        may_finish.wait(WAIT_S)
        real_check(path)

    monkeypatch.setattr(database, "check_small_file", slow_check)
    before = _states(demo_db_path)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            await until(pilot, lambda: started.is_set() and screen.queue is not None
                        and screen.rows)
            key = screen.rows[0].key
            await pilot.press("x")  # mark the first alert done: a write
            await until(pilot, lambda: any(w.group == "write" for w in app.workers))
            for _ in range(20):  # the write worker runs, and waits on the check
                await pilot.pause(0.01)
            assert _states(demo_db_path) == before
            assert not app.integrity.checked
            may_finish.set()
            await until(pilot, lambda: (key, "done") in _states(demo_db_path))
            await app.workers.wait_for_complete()

    asyncio.run(main())
    assert app.integrity.error is None


def test_the_check_starts_after_the_first_complete_screen(app: OutcomesApp,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """Not beside the screen's reads (it took the second core from them): after the numbers
    and the whole queue are on screen."""
    on_screen: list[bool] = []
    real_check = database.check_small_file

    def check(path: Path) -> None:
        screen = app.screen
        on_screen.append(isinstance(screen, DashboardScreen) and screen.queue is not None
                         and screen.queue.complete and screen._held == set())
        real_check(path)

    monkeypatch.setattr(database, "check_small_file", check)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            await until(pilot, lambda: app.integrity.checked)
            await app.workers.wait_for_complete()

    asyncio.run(main())
    assert on_screen == [True] and app.integrity.error is None


def test_the_check_still_runs_when_the_first_screen_never_completes(
        app: OutcomesApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed read (a damaged file may be why) never completes the first screen: the check
    starts at INTEGRITY_START_MAX_S all the same."""
    from outcomes.network import queue

    def fail(*_args: object) -> Any:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(queue, "queue_stages", fail)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            await until(pilot, lambda: app.integrity.checked)
            screen = app.screen
            assert isinstance(screen, DashboardScreen) and screen.queue is None
            await app.workers.wait_for_complete()

    asyncio.run(main())
    assert app.integrity.error is None


def test_the_command_ends_with_the_check_error(demo_db_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`outcomes` on a damaged small file: once the user quits the message screen, the
    command fails with the same message as every other command (exit status 1), and the
    collector paused for the start is running again."""
    import gc

    from outcomes_tui import app as app_module

    corrupt_a_page(demo_db_path)
    app = make_app(demo_db_path, today=DEMO_TODAY)
    ran: list[bool] = []

    def run_the_check_only() -> None:  # what the app's worker does before the user quits
        ran.append(not gc.isenabled())
        app.integrity.run()

    monkeypatch.setattr(app, "run", run_the_check_only)
    monkeypatch.setattr(app_module, "make_app", lambda path, first_screen=None: app)
    try:
        with pytest.raises(DamagedDatabase, match="is damaged"):
            app_module.run_path(demo_db_path)
        assert ran == [True] and gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.skipif(not OUTCOMES.exists(), reason="the outcomes console script is not installed")
def test_a_damaged_file_in_a_real_terminal(demo_db_path: Path, isolated_dirs: Path) -> None:
    """`outcomes` on a damaged small file, as a user starts it: the message with the way out,
    ctrl+q leaves, and the file is untouched (the keys that do nothing: the Pilot test)."""
    corrupt_a_page(demo_db_path)
    before = _digest(demo_db_path)
    with dashboard(demo_db_path, size=(120, 36)) as t:
        t.wait_for("is damaged", ".recover", "Ctrl+Q: quit")
        t.keys("C-q")
        t.wait_closed()
    assert _digest(demo_db_path) == before


def test_a_write_before_the_check_started_runs_it_once(demo_db_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The check starts after the first screen: a write asked for sooner (a key pressed at
    once) runs it itself, and a damaged file refuses that write."""
    from outcomes_tui.integrity import IntegrityGate

    runs: list[Path] = []
    real_check = database.check_small_file

    def counted(path: Path) -> None:
        runs.append(path)
        real_check(path)

    monkeypatch.setattr(database, "check_small_file", counted)
    gate = IntegrityGate(demo_db_path)
    assert not gate.checked
    gate.require()
    assert gate.checked and gate.run() is None and runs == [demo_db_path]
    corrupt_a_page(demo_db_path)
    damaged = IntegrityGate(demo_db_path)
    with pytest.raises(DamagedDatabase):
        damaged.require()
    with pytest.raises(DamagedDatabase):
        damaged.require()
    assert len(runs) == 2
