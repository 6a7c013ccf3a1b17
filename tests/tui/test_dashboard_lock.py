"""A survey saved from the dashboard while another program holds the write lock: a visible,
retryable error with the typed answers kept; after the lock is released the retry stores
exactly one response (issue 16).

The lock is held by a second sqlite3 connection in ``BEGIN IMMEDIATE``, as ``prospects import``
or a long import would hold it; the busy timeout is 300 ms so the wait is short (nothing is
timed: the test only waits for the dashboard's workers)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from outcomes_tui.app import make_app
from outcomes_tui.screens.survey_entry import SurveyEntryScreen
from outcomes_tui.widgets.survey_items import SurveyItems
from tests.conftest import DEMO_TODAY

ANSWERS = "3213021024"  # ODI, sum 18 -> 36.0


def fresh_odi_episode(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT id FROM episodes e WHERE instrument = 'odi' AND NOT EXISTS"
            " (SELECT 1 FROM responses r WHERE r.episode_id = e.id) ORDER BY id LIMIT 1"
        ).fetchone()
    assert row
    return str(row[0])


def stored(path: Path, episode: str) -> list[tuple[Any, ...]]:
    # A plain reader: WAL lets it read while the other connection holds the write lock.
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT answers, scores FROM responses WHERE episode_id = ?",
                            [episode]).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("retry_key", [
    "enter",
    # The forms save with ctrl+s and feedback.plain_error says to retry with it: the survey
    # screen takes it too.
    "ctrl+s",
])
def test_a_survey_saved_under_a_held_lock_is_kept_and_retried(
        demo_db_path: Path, drive: Any, settle: Any, monkeypatch: pytest.MonkeyPatch,
        retry_key: str) -> None:
    monkeypatch.setenv("OUTCOMES_BUSY_TIMEOUT_MS", "300")
    episode = fresh_odi_episode(demo_db_path)
    app = make_app(demo_db_path, today=DEMO_TODAY)
    seen: dict[str, Any] = {}
    locker = sqlite3.connect(demo_db_path, isolation_level=None, timeout=5)

    async def body(pilot: Any) -> None:
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, SurveyEntryScreen)
        for key in ANSWERS:
            await pilot.press(key)
        locker.execute("BEGIN IMMEDIATE")  # another program takes the write lock
        await pilot.press("enter")
        await settle(pilot)
        seen["screen_while_locked"] = type(pilot.app.screen).__name__
        seen["error"] = str(screen.query_one("#refusal", Static).render())
        seen["kept"] = screen.query_one(SurveyItems).answers()
        seen["stored_while_locked"] = stored(demo_db_path, episode)
        locker.execute("ROLLBACK")  # the other program finishes
        await pilot.press(retry_key)
        await settle(pilot)
        seen["screen_after_retry"] = type(pilot.app.screen).__name__

    try:
        drive(app, body)
    finally:
        locker.close()
    assert seen["screen_while_locked"] == "SurveyEntryScreen", seen
    assert "busy" in seen["error"] or "in use by another program" in seen["error"], seen
    assert "Nothing was saved" in seen["error"] or "nothing was written" in seen["error"], seen
    assert seen["kept"] == [int(c) for c in ANSWERS]
    assert seen["stored_while_locked"] == []
    assert seen["screen_after_retry"] != "SurveyEntryScreen", seen
    rows = stored(demo_db_path, episode)
    assert len(rows) == 1
    assert json.loads(rows[0][0]) == [int(c) for c in ANSWERS]
    assert json.loads(rows[0][1]) == {"odi": 36.0}
