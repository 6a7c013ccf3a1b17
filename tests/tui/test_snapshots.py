"""Snapshots of each screen at 100x30 on the demo clinic at DEMO_TODAY.

Regenerate with `pytest tests/tui/test_snapshots.py --snapshot-update` and look at the SVGs
(tests/tui/__snapshots__/) before committing them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from outcomes_tui.app import make_app
from outcomes_tui.screens.partner_detail import PartnerDetailScreen
from tests.conftest import DEMO_TODAY

SIZE = (100, 30)


async def _settle(pilot: Any) -> None:
    """Wait for every worker, then stop the focused input's cursor from blinking, so a snapshot
    never depends on when it was taken (a blinking cursor is caught or not)."""
    for _ in range(5):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()


def _keys(*keys: str):
    async def run_before(pilot: Any) -> None:
        await _settle(pilot)
        for key in keys:
            await pilot.press(key)
            await _settle(pilot)

    return run_before


@pytest.fixture
def snap_app(demo_db_path: Path):
    return make_app(demo_db_path, today=DEMO_TODAY)


def test_dashboard(snap_compare, snap_app):
    assert snap_compare(snap_app, terminal_size=SIZE, run_before=_keys())


def test_dashboard_light_theme(snap_compare, snap_app):
    assert snap_compare(snap_app, terminal_size=SIZE, run_before=_keys("ctrl+t"))


def test_dashboard_large_terminal(snap_compare, snap_app):
    assert snap_compare(snap_app, terminal_size=(160, 48), run_before=_keys())


def test_partners_filtered(snap_compare, snap_app):
    assert snap_compare(snap_app, terminal_size=SIZE, run_before=_keys("f3", "d", "r"))


def test_partner_detail(snap_compare, snap_app):
    async def run_before(pilot: Any) -> None:
        await _settle(pilot)
        pilot.app.push_screen(PartnerDetailScreen(1))
        await _settle(pilot)

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=run_before)


def test_episodes(snap_compare, snap_app):
    assert snap_compare(snap_app, terminal_size=SIZE,
                        run_before=_keys("f4", "E", "0", "0", "0", "0", "1", "enter"))


def test_survey_entry_half_typed(snap_compare, snap_app):
    async def run_before(pilot: Any) -> None:
        await _settle(pilot)
        pilot.app.action_survey("E00001")
        await _settle(pilot)
        for key in ["3", "2", "minus", "7"]:
            await pilot.press(key)
        await _settle(pilot)

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=run_before)


def test_import(snap_compare, snap_app):
    assert snap_compare(snap_app, terminal_size=SIZE, run_before=_keys("f6"))


def test_packets(snap_compare, snap_app):
    assert snap_compare(snap_app, terminal_size=SIZE, run_before=_keys("f7", "ctrl+a"))


def test_help(snap_compare, snap_app):
    assert snap_compare(snap_app, terminal_size=SIZE, run_before=_keys("f1"))
