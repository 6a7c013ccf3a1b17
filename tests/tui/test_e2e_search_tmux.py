"""End to end: the patient search in the real `outcomes` command under tmux, keys sent in
bursts (tmux delivers a send-keys call at once, faster than any typist), the screen read back."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.tui.test_e2e_tmux import OUTCOMES, _tmux, _wait_for

pytestmark = pytest.mark.slow


def _settled_screen(session: str, *texts: str, absent: str = "", timeout: float = 60.0) -> str:
    """The screen once it shows every one of ``texts`` and not ``absent``: a frame caught
    halfway through a redraw is read again."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if all(t in screen for t in texts) and not (absent and absent in screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{texts!r} (without {absent!r}) never on screen; last:\n{screen}")



@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.skipif(not OUTCOMES.exists(), reason="the outcomes console script is not installed")
def test_fast_search_typing_in_tmux_keeps_every_key(demo_db_path: Path,
                                                     isolated_dirs: Path) -> None:
    session = f"outcomes-search-{uuid.uuid4().hex[:8]}"
    env = " ".join(f"{k}={v}" for k, v in {
        "HOME": os.environ["HOME"], "OUTCOMES_CONFIG_DIR": os.environ["OUTCOMES_CONFIG_DIR"],
        "TERM": "xterm-256color"}.items())
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36",
          f"env {env} {OUTCOMES} --db {demo_db_path}")
    try:
        subprocess.run(["tmux", "resize-window", "-t", session, "-x", "120", "-y", "36"],
                       capture_output=True)
        _wait_for(session, "Alert queue (")
        _tmux("send-keys", "-t", session, "F4")
        _wait_for(session, "Find a patient")
        for _attempt in range(5):
            _tmux("send-keys", "-t", session, "Down")  # the focus on the results table
            _tmux("send-keys", "-t", session, "-l", "/E0060")  # one burst: / then the id
            _settled_screen(session, "E00605", "Episodes (10,", "E0060", absent="E00015")
            _tmux("send-keys", "-t", session, "BSpace", "BSpace", "0", "1")  # one burst
            _settled_screen(session, "E00015", "Episodes (10,", absent="E00605")
            _tmux("send-keys", "-t", session, "BSpace", "BSpace", "BSpace", "BSpace", "BSpace")
            _settled_screen(session, "Episodes (50+")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
