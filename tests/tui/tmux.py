"""Driving the real `outcomes` command in tmux: start the dashboard in a session of a given
size, read the screen back, type, and wait for what the screen shows (never for a fixed time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

OUTCOMES = Path(sys.executable).with_name("outcomes")
# A tmux server of the test run's own (its socket named after this process): the default
# server is shared with whatever else runs tmux on the machine, and a "kill-server" there (a
# benchmark, a person) took a test's session down with it.
TMUX = ("tmux", "-L", f"outcomes-tests-{os.getpid()}")


class Terminal:
    """One tmux session: its screen, and keys sent to it."""

    def __init__(self, session: str) -> None:
        self.session = session

    def screen(self) -> str:
        return subprocess.run([*TMUX, "capture-pane", "-p", "-t", self.session], check=True,
                              capture_output=True, text=True).stdout

    def wait_for(self, *texts: str, absent: str = "", timeout: float = 60.0) -> str:
        """The screen once it shows every one of ``texts`` and not ``absent`` (a frame caught
        halfway through a redraw is read again)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(t in screen for t in texts) and not (absent and absent in screen):
                return screen
            time.sleep(0.15)
        size = subprocess.run([*TMUX, "display", "-p", "-t", self.session,
                               "#{window_width}x#{window_height}"],
                              capture_output=True, text=True).stdout.strip()
        raise AssertionError(f"{texts!r} never appeared on screen ({size}); last screen:\n"
                             f"{screen}")

    def keys(self, *keys: str) -> None:
        """Send ``keys`` one after the other, each in its own send-keys call."""
        for key in keys:
            subprocess.run([*TMUX, "send-keys", "-t", self.session, key], check=True)

    def burst(self, *keys: str) -> None:
        """Send ``keys`` in one send-keys call: they arrive together, faster than any typist."""
        subprocess.run([*TMUX, "send-keys", "-t", self.session, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run([*TMUX, "send-keys", "-t", self.session, "-l", text], check=True)

    def field(self, text: str, then: str = "Tab") -> None:
        """Type into the focused field, then move on (each field waits for its echo, so a key
        is never sent to a field that has not taken the focus yet)."""
        if text:
            tail = text[-20:]
            before = self.screen().count(tail)
            self.type(text)
            deadline = time.monotonic() + 30
            while self.screen().count(tail) <= before:   # one more on screen: echoed
                assert time.monotonic() < deadline, f"{text!r} was never echoed:\n" \
                    f"{self.screen()}"
                time.sleep(0.1)
        self.keys(then)

    def pick(self, search: str, shown: str) -> None:
        """Open the focused picker, type to search, Enter picks."""
        self.keys("Enter")
        # Typed text searches the list only once it is open: its picker then shows the up arrow.
        deadline = time.monotonic() + 30
        while "▲" not in self.screen():
            assert time.monotonic() < deadline, f"the list never opened:\n{self.screen()}"
            time.sleep(0.1)
        self.type(search)
        self.keys("Enter")
        # Closed again, showing the choice: the picker's own line, with its arrow.
        deadline = time.monotonic() + 30
        while not any(shown in line and "▼" in line for line in self.screen().splitlines()):
            assert time.monotonic() < deadline, f"{shown!r} was never picked:\n{self.screen()}"
            time.sleep(0.15)

    def wait_closed(self, timeout: float = 20.0) -> None:
        """Until the command has left (its session ends with it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and subprocess.run(
                [*TMUX, "has-session", "-t", self.session], capture_output=True).returncode == 0:
            time.sleep(0.2)


@contextmanager
def dashboard(db: Path, env: Mapping[str, str] | None = None, *,
              size: tuple[int, int] = (160, 48)) -> Iterator[Terminal]:
    """The dashboard on ``db`` in a new tmux session of ``size``, killed on the way out.

    It starts in a clean environment, as a login gives (HOME and the outcomes folders of the
    test, plus ``env``): under pytest's own environment the dashboard came up at 80x24 whatever
    the pane's size."""
    session = f"outcomes-{uuid.uuid4().hex[:8]}"
    width, height = size
    clean = {"HOME": os.environ["HOME"], "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
             "TERM": "xterm-256color", "OUTCOMES_CONFIG_DIR": os.environ["OUTCOMES_CONFIG_DIR"],
             **(env or {})}
    command = " ".join(f"{k}={v}" for k, v in clean.items())
    subprocess.run([*TMUX, "new-session", "-d", "-s", session, "-x", str(width), "-y",
                    str(height), f"env -i {command} {OUTCOMES} --db {db}"], check=True)
    try:
        # A running tmux server may impose its default size; ask for ours explicitly.
        subprocess.run([*TMUX, "resize-window", "-t", session, "-x", str(width), "-y",
                        str(height)], capture_output=True)
        yield Terminal(session)
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)
