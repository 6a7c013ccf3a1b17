"""End to end: the real `outcomes` command in tmux, a survey typed with send-keys, the screen read
back with capture-pane, and the stored response checked in the database."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.tui.tmux import OUTCOMES, dashboard

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.skipif(not OUTCOMES.exists(), reason="the outcomes console script is not installed")
def test_survey_typed_in_tmux_is_stored(demo_db_path: Path, isolated_dirs: Path) -> None:
    with sqlite3.connect(demo_db_path) as conn:
        episode = conn.execute(
            "SELECT id FROM episodes e WHERE instrument = 'odi' AND NOT EXISTS"
            " (SELECT 1 FROM responses r WHERE r.episode_id = e.id) ORDER BY id LIMIT 1"
        ).fetchone()[0]
    with dashboard(demo_db_path, size=(120, 36)) as t:
        t.wait_for("Alert queue (")
        t.keys("s")
        t.wait_for("Enter a survey")
        t.type(episode)
        t.keys("Enter")
        t.wait_for("Oswestry")
        t.type("3213021024")
        t.wait_for("ODI: 36.0")  # the live score
        t.keys("Enter")
        t.wait_for(f"Saved odi intake for {episode}")
    with sqlite3.connect(demo_db_path) as conn:
        rows = conn.execute("SELECT answers, scores FROM responses WHERE episode_id = ?",
                            [episode]).fetchall()
    assert [(json.loads(a), json.loads(s)) for a, s in rows] == [
        ([3, 2, 1, 3, 0, 2, 1, 0, 2, 4], {"odi": 36.0})
    ]
