"""Survey entry: keys typed into the form store a response whose score is right."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from outcomes_tui.screens.survey_entry import SurveyEntryScreen
from outcomes_tui.widgets.survey_items import SurveyItems


def _fresh_episode(path: Path, instrument: str) -> str:
    """An episode of the demo with this instrument and no responses yet."""
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT id FROM episodes e WHERE instrument = ? AND NOT EXISTS"
            " (SELECT 1 FROM responses r WHERE r.episode_id = e.id) ORDER BY id LIMIT 1",
            [instrument],
        ).fetchone()
    assert row, f"the demo has no {instrument} episode without responses"
    return str(row[0])


def _responses(path: Path, episode_id: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT instrument, timepoint, date, answers, scores, scorable FROM responses"
            " WHERE episode_id = ?", [episode_id]).fetchall()


def test_full_odi_takes_eleven_keys_and_stores_the_right_score(app, drive, settle,
                                                               demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")
    answers = "3213021024"  # sum 18 -> ODI 100 * 18 / 50 = 36.0

    async def body(pilot):
        pilot.app.action_survey(episode)  # the form opens with the episode chosen
        await settle(pilot)
        assert isinstance(pilot.app.screen, SurveyEntryScreen)
        keys = [*answers, "enter"]
        assert len(keys) <= 13
        for key in keys:
            await pilot.press(key)
        await settle(pilot)
        assert not isinstance(pilot.app.screen, SurveyEntryScreen)  # saved and closed

    drive(app, body)
    rows = _responses(demo_db_path, episode)
    assert len(rows) == 1
    instrument, timepoint, when, stored, scores, scorable = rows[0]
    assert (instrument, timepoint, when) == ("odi", "intake", "2026-11-22")
    assert json.loads(stored) == [int(c) for c in answers]
    assert json.loads(scores) == {"odi": 36.0}
    assert scorable == 1


def test_skip_refuse_and_live_score(app, drive, settle, demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        items = screen.query_one(SurveyItems)
        await pilot.press("7")  # ODI items go 0-5: refused, cursor stays
        await pilot.pause()
        assert items.cursor == 0
        assert "7 is not allowed for item 1" in str(screen.query_one("#refusal").render())
        for key in ["2", "minus", "3", "3", "3", "3", "3", "3", "3", "3"]:
            await pilot.press(key)
        await pilot.pause()
        assert items.answers() == [2, None, 3, 3, 3, 3, 3, 3, 3, 3]
        # 26 of 45 possible with one item missing -> 57.8, still scorable (one may be missing)
        shown = str(screen.query_one("#score").render())
        assert "57.8" in shown and "9 of 10 answered" in shown
        await pilot.press("enter")
        await settle(pilot)

    drive(app, body)
    rows = _responses(demo_db_path, episode)
    assert json.loads(rows[0][3]) == [2, None, 3, 3, 3, 3, 3, 3, 3, 3]
    assert json.loads(rows[0][4])["odi"] == 100 * 26 / 45


def test_two_digit_items_take_ten_as_one_then_zero(app, drive, settle, demo_db_path):
    """PSFS items go 0-10: "1" "0" is 10; "1" then another digit is 1 and the next answer."""
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#instrument").value = "psfs"
        await settle(pilot)
        screen.query_one(SurveyItems).focus()
        for key in ["1", "0", "1", "4", "t", "minus", "minus", "enter"]:
            await pilot.press(key)
        await settle(pilot)

    drive(app, body)
    rows = _responses(demo_db_path, episode)
    assert [r[0] for r in rows] == ["psfs"]
    assert json.loads(rows[0][3]) == [10, 1, 4, 10]
    assert json.loads(rows[0][4]) == {"psfs": 25 / 4}


def test_nps_comment_with_markup_is_stored_and_shown_as_typed(app, drive, settle,
                                                              demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")
    comment = "Billing was [bold]confusing[/bold]"

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#instrument").value = "nps"
        await settle(pilot)
        screen.query_one(SurveyItems).focus()
        await pilot.press("9")
        await pilot.press("tab")  # into the comment
        await pilot.pause()
        for ch in comment:
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
        await settle(pilot)
        # The episode screen shows the comment exactly as typed.
        pilot.app.action_go("episodes")
        await settle(pilot)
        episodes = pilot.app.screen
        episodes.query_one("#search").value = episode
        await settle(pilot)
        info = str(episodes.query_one("#episode-info").render())
        assert comment in info

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        stored = conn.execute("SELECT score, comment FROM nps_responses WHERE episode_id = ?",
                              [episode]).fetchall()
    assert stored == [(9, comment)]
