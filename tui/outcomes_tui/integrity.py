"""The integrity check of a small database file, run once the dashboard's first screen is up,
and the gate every write of the dashboard passes.

The command line checks a file of up to ``QUICK_CHECK_MAX_BYTES`` before any command runs
(``open_db``). The dashboard paid the same check before Textual started (15-30 ms of a 0.4 s
start on the demo clinic, all of it before the first frame); it then ran on a worker beside
the first screen's reads, and took the second core from them; it now starts on a worker once
that screen is complete (or ``INTEGRITY_START_MAX_S`` after start, when it never is). Reading
a damaged file can at worst show wrong figures for a moment, and the screen is then replaced
by the damaged-database message; writing to it could spread the damage, so no write may start
before the check has passed: every write of the dashboard takes its connection from
``OutcomesApp.db()``, which calls :meth:`IntegrityGate.require` first. A write asked for
before the check started runs it; one asked for during the check waits for it (a lock, not a
poll); one asked for after a failed check raises the check's error, which the app shows as a
notification like any other.

A file left by a crash (a ``-wal`` nobody holds) is still checked before the app starts,
whatever its size (``store.database.prepare_existing``): SQLite replays that log on the first
read, so the check must see the file before anything reads it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen


class IntegrityGate:
    """The result of one integrity check of ``path``, computed once (by whichever thread asks
    first: the app's worker at start-up, or a write that came first)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._checked = False
        self.error: Exception | None = None
        """What the check raised (``DamagedDatabase``, or the error that kept it from reading
        the file); None while unchecked or once passed."""

    @property
    def checked(self) -> bool:
        return self._checked

    def run(self) -> Exception | None:
        """Check the file unless done already; the error found, or None when it passed."""
        with self._lock:
            if not self._checked:
                from outcomes.store.database import check_small_file

                try:
                    check_small_file(self.path)
                except Exception as exc:  # any failure to read it refuses writes just the same
                    self.error = exc
                self._checked = True
            return self.error

    def require(self) -> None:
        """Return once the check has passed (waiting for one under way); raise its error when
        it failed."""
        error = self.run()
        if error is not None:
            raise error


def damaged_screen(error: Exception) -> Screen[None]:
    """The screen that replaces the dashboard when the check failed: the command line's
    message (what is wrong, how to restore or recover), and only the quit key."""
    from textual.app import ComposeResult
    from textual.screen import Screen
    from textual.widgets import Static

    from outcomes_tui.feedback import plain_error

    class DamagedScreen(Screen[None]):
        DEFAULT_CSS = """
        DamagedScreen { align: center middle; }
        DamagedScreen #damaged { width: 100; height: auto; border: heavy $error;
                                 padding: 1 2; }
        """

        def compose(self) -> ComposeResult:
            yield Static(f"{plain_error(error)}\n\nNothing can be written to this file. "
                         "Ctrl+Q: quit", id="damaged", markup=False)

    return DamagedScreen()
