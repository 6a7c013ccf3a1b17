"""End to end: the real `outcomes` command in tmux, a survey typed with send-keys, the screen read
back with capture-pane, and the stored response checked in the database."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

OUTCOMES = Path(sys.executable).with_name("outcomes")


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def _wait_for(session: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared on screen; last screen:\n{screen}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.skipif(not OUTCOMES.exists(), reason="the outcomes console script is not installed")
def test_survey_typed_in_tmux_is_stored(demo_db_path: Path, isolated_dirs: Path) -> None:
    with sqlite3.connect(demo_db_path) as conn:
        episode = conn.execute(
            "SELECT id FROM episodes e WHERE instrument = 'odi' AND NOT EXISTS"
            " (SELECT 1 FROM responses r WHERE r.episode_id = e.id) ORDER BY id LIMIT 1"
        ).fetchone()[0]
    session = f"outcomes-e2e-{uuid.uuid4().hex[:8]}"
    env = " ".join(f"{k}={v}" for k, v in {
        "HOME": os.environ["HOME"], "OUTCOMES_CONFIG_DIR": os.environ["OUTCOMES_CONFIG_DIR"],
        "TERM": "xterm-256color"}.items())
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36",
          f"env {env} {OUTCOMES} --db {demo_db_path}")
    try:
        # A running tmux server may impose its default size; ask for ours explicitly.
        subprocess.run(["tmux", "resize-window", "-t", session, "-x", "120", "-y", "36"],
                       capture_output=True)
        _wait_for(session, "Alert queue (")
        _tmux("send-keys", "-t", session, "s")
        _wait_for(session, "Enter a survey")
        _tmux("send-keys", "-t", session, "-l", episode)
        _tmux("send-keys", "-t", session, "Enter")
        _wait_for(session, "Oswestry")
        _tmux("send-keys", "-t", session, "-l", "3213021024")
        _wait_for(session, "ODI: 36.0")  # the live score
        _tmux("send-keys", "-t", session, "Enter")
        _wait_for(session, f"Saved odi intake for {episode}")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    with sqlite3.connect(demo_db_path) as conn:
        rows = conn.execute("SELECT answers, scores FROM responses WHERE episode_id = ?",
                            [episode]).fetchall()
    assert [(json.loads(a), json.loads(s)) for a, s in rows] == [
        ([3, 2, 1, 3, 0, 2, 1, 0, 2, 4], {"odi": 36.0})
    ]
