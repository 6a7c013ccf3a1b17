"""The dashboard command's fast path (outcomes.cli.open_dashboard_fast): the dashboard's first
reads are forked before the front end loads, and handed to it."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from outcomes import cli
from outcomes.reports import first_screen


def test_the_command_forks_the_first_reads_and_hands_them_to_the_dashboard(
        demo_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import outcomes_tui.app as app_module

    monkeypatch.setattr(first_screen, "can_fork", lambda path: True)
    got: dict[str, Any] = {}

    def run_path(path: Path, first: first_screen.FirstScreen | None = None) -> None:
        got.update(path=path, first=first)

    monkeypatch.setattr(app_module, "run_path", run_path)
    try:
        cli.open_dashboard_fast(demo_db_path)
    finally:
        gc.unfreeze()  # the command freezes its modules' objects; the session goes on
    first = got["first"]
    assert got["path"] == demo_db_path and isinstance(first, first_screen.FirstScreen)
    assert first.ended.wait(30)
    queue = first.wait("queue")
    assert queue is not None and queue.complete
    assert first.wait("summary") is not None and first.wait("mcid") is not None


def test_a_small_file_is_read_by_the_dashboard_itself(
        demo_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import outcomes_tui.app as app_module

    got: dict[str, Any] = {}
    monkeypatch.setattr(app_module, "run_path",
                        lambda path, first=None: got.update(path=path, first=first))
    try:
        cli.open_dashboard_fast(demo_db_path)
    finally:
        gc.unfreeze()
    assert got == {"path": demo_db_path, "first": None}
