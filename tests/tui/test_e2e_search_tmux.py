"""End to end: the patient search in the real `outcomes` command under tmux, keys sent in
bursts (tmux delivers a send-keys call at once, faster than any typist), the screen read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.tui.tmux import OUTCOMES, dashboard

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.skipif(not OUTCOMES.exists(), reason="the outcomes console script is not installed")
def test_fast_search_typing_in_tmux_keeps_every_key(demo_db_path: Path,
                                                     isolated_dirs: Path) -> None:
    with dashboard(demo_db_path, size=(120, 36)) as t:
        t.wait_for("Alert queue (")
        t.keys("F4")
        t.wait_for("Find a patient")
        for _attempt in range(5):
            t.keys("Down")  # the focus on the results table
            t.type("/E0060")  # one burst: / then the id
            t.wait_for("E00605", "Episodes (10,", "E0060", absent="E00015")
            t.burst("BSpace", "BSpace", "0", "1")  # one burst
            t.wait_for("E00015", "Episodes (10,", absent="E00605")
            t.burst(*["BSpace"] * 5)
            t.wait_for("Episodes (50+")
