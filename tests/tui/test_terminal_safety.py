"""Stored escape sequences never reach the terminal from the dashboard: names, notes, comments
and summaries planted with ESC/OSC/CSI, C1 and bidi controls are drawn without them."""

from __future__ import annotations

from pathlib import Path

import pytest

from outcomes.store.database import open_db
from outcomes_tui.app import make_app
from outcomes_tui.screens.partner_detail import PartnerDetailScreen
from tests.conftest import DEMO_TODAY

HOSTILE = {
    "title": "\x1b]0;pwned\x07",
    "hyperlink": "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "clear": "\x1b[2J",
    "rlo": "\u202etxt.exe",
    "c1": "\x9b31m",
}
CONTROLS = ("\x1b", "\x07", "\u202e", "\x9b")


def _plant(path: Path) -> int:
    """Hostile text in the fields the dashboard shows (written as a file could hold them)."""
    db = open_db(path)
    pid = db.execute("SELECT id FROM partners WHERE name = 'Dr. Margaret Hale'").fetchone()[0]
    text = " ".join(HOSTILE.values())
    db.execute("UPDATE partners SET name = ?, notes = ?, organization = ? WHERE id = ?",
               [f"Dr. Hale {HOSTILE['title']}{HOSTILE['clear']}", text, HOSTILE["rlo"], pid])
    db.execute("UPDATE touchpoints SET summary = ? WHERE partner_id = ?", [text, pid])
    db.execute("UPDATE nps_responses SET comment = ?", [text])
    db.close()
    return int(pid)


def _screens_drawn(demo_db_path: Path, drive, settle, *, filtered: bool) -> list[str]:
    pid = _plant(demo_db_path)
    app = make_app(demo_db_path, today=DEMO_TODAY)
    if not filtered:
        app.get_line_filters = lambda: []  # type: ignore[method-assign]
    shots: list[str] = []

    async def body(pilot):
        shots.append(pilot.app.export_screenshot())
        await pilot.app.push_screen(PartnerDetailScreen(pid))
        await settle(pilot)
        shots.append(pilot.app.export_screenshot())
        await pilot.press("f4")
        await settle(pilot)
        shots.append(pilot.app.export_screenshot())

    drive(app, body, size=(160, 48))
    return shots


def test_the_dashboard_draws_no_control_character(demo_db_path, drive, settle) -> None:
    shots = _screens_drawn(demo_db_path, drive, settle, filtered=True)
    for shot in shots:
        for char in CONTROLS:
            assert char not in shot, repr(char)
    assert any("Hale" in shot for shot in shots)  # the planted rows were drawn


def test_without_the_filter_the_planted_text_would_reach_the_terminal(
        demo_db_path, drive, settle) -> None:
    shots = _screens_drawn(demo_db_path, drive, settle, filtered=False)
    assert any(char in shot for shot in shots for char in CONTROLS)


@pytest.mark.parametrize("text", list(HOSTILE.values()))
def test_strip_controls_leaves_no_control_and_keeps_the_rest(text: str) -> None:
    from outcomes.text import is_control, strip_controls

    out = strip_controls(text)
    assert not any(is_control(c) for c in out)
    assert [c for c in text if not is_control(c)] == list(out)
