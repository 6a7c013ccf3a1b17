"""The dashboard's first reads made by a forked child (outcomes.reports.first_screen): what it
hands over equals the dashboard's own reads, what it cannot hand over is left out, a child
that fails or is stopped leaves nothing behind (no zombie, no part)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from outcomes.network.queue import work_queue
from outcomes.reports import first_screen
from outcomes.reports.dashboard import dashboard_mcid
from outcomes.reports.first_screen import FirstScreen, start_first_screen, summary_reads
from tests.conftest import DEMO_TODAY

WAIT_S = 30.0


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork whatever the file's size (the demo is below FORK_MIN_BYTES) and whatever thread a
    test before this one left behind (they only wait on queues)."""
    monkeypatch.setattr(first_screen, "can_fork", lambda path: True)


def ended(first: FirstScreen) -> FirstScreen:
    assert first.ended.wait(WAIT_S), "the child never ended"
    return first


def reaped(pid: int) -> bool:
    """The child was waited for (a zombie would still be ours to wait for)."""
    for _ in range(int(WAIT_S / 0.01)):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.usefixtures("forking")
def test_the_child_hands_over_the_dashboards_own_reads(demo_db_path: Path) -> None:
    first = start_first_screen(demo_db_path, DEMO_TODAY)
    assert first is not None
    ended(first)
    conn = sqlite3.connect(demo_db_path)
    try:
        assert first.wait("summary") == summary_reads(conn, DEMO_TODAY)
        assert first.wait("mcid") == dashboard_mcid(conn, DEMO_TODAY)
        queue = first.wait("queue")
        assert queue is not None and queue.complete
        assert queue == work_queue(conn, DEMO_TODAY)
    finally:
        conn.close()
    assert first.today == DEMO_TODAY
    assert reaped(first._pid)


@pytest.mark.usefixtures("forking")
def test_a_queue_too_big_to_hand_over_is_left_to_the_dashboard(
        demo_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_screen, "HANDOVER_LIMIT", 0)
    first = ended(start_first_screen(demo_db_path, DEMO_TODAY))  # type: ignore[arg-type]
    assert first.wait("queue") is None
    assert first.wait("summary") is not None and first.wait("mcid") is not None


@pytest.mark.usefixtures("forking")
def test_a_child_that_fails_hands_over_nothing_and_is_reaped(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # a database without the app's tables: every read fails
    first = ended(start_first_screen(empty, DEMO_TODAY))  # type: ignore[arg-type]
    assert (first.wait("summary"), first.wait("mcid"), first.wait("queue")) == (None,) * 3
    assert reaped(first._pid)


@pytest.mark.usefixtures("forking")
def test_stop_ends_a_child_still_reading(demo_db_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # The child runs the module's _child, copied at the fork: this one never finishes.
    monkeypatch.setattr(first_screen, "_child", lambda *args: time.sleep(3600))
    first = start_first_screen(demo_db_path, DEMO_TODAY)
    assert first is not None
    assert not first.ended.wait(0.2)
    first.stop()
    ended(first)
    assert reaped(first._pid)
    assert first.wait("summary") is None


def test_no_fork_for_a_small_file_or_beside_another_thread(
        demo_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    size = demo_db_path.stat().st_size
    assert size < first_screen.FORK_MIN_BYTES
    assert start_first_screen(demo_db_path, DEMO_TODAY) is None
    monkeypatch.setattr(first_screen, "FORK_MIN_BYTES", size)
    if threading.active_count() == 1:
        assert first_screen.can_fork(demo_db_path)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not first_screen.can_fork(demo_db_path)
    finally:
        release.set()
        other.join()
    assert not first_screen.can_fork(demo_db_path.with_name("missing.db"))


def test_wait_blocks_until_the_part_arrives_or_the_child_ends(demo_db_path: Path) -> None:
    import pickle

    from outcomes.store.connections import Connections

    first = FirstScreen(Connections(demo_db_path), DEMO_TODAY, 0)
    threading.Timer(0.1, first.arrived, ("mcid", pickle.dumps("a rate"))).start()
    assert first.wait("mcid") == "a rate"
    assert first.mcid == "a rate"  # unpickled once, kept
    threading.Timer(0.1, first.end).start()
    assert first.wait("summary") is None
    assert first.ended.is_set()
    first.arrived("queue", pickle.dumps("older stage"))
    first.arrived("queue", pickle.dumps("newer stage"))
    assert first.queue == "newer stage"
