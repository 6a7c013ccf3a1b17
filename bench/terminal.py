"""Start-up as a user sees it: a real command in a real terminal (tmux at 160x48), timed from
starting the process to the first screen that shows what the user came for, polled with
``tmux capture-pane``.

The dashboard is "shown" when the KPI panels carry their numbers and the alert queue shows the
partner names of its first alerts (computed from the same database by the core); the floor, a
minimal Textual app (Header, DataTable, Footer) reading 100 partners, when its first partner's
name is on screen. Both are timed the same way, on the same tmux server.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 160, 48
POLL_S = 0.01
TIMEOUT_S = 60.0

MINIMAL_APP = '''
import sqlite3, sys
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Minimal(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        conn = sqlite3.connect(sys.argv[1])
        rows = conn.execute("SELECT name, kind, npi FROM partners ORDER BY name LIMIT 100")
        table = self.query_one(DataTable)
        table.add_columns("name", "kind", "npi")
        table.add_rows(rows.fetchall())
        conn.close()

Minimal().run()
'''


# Not a floor (the floors pay none of our costs, and the minimal app above stays the figure's
# floor): the dashboard's first screen (four KPI panels, the alert queue's kinds line, table and
# detail, a chart panel, a footer of nine keys) drawn by bare Textual from static text and 30
# partner names, to show how much of our figure is Textual drawing that much screen.
SAME_SCREEN_APP = r'''
import sqlite3, sys
from textual.app import App
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static

class SameScreen(App):
    CSS = """
    .panel { border: round $primary 40%; border-title-color: $text-primary; padding: 0 1; }
    DataTable { height: 1fr; }
    #kpis { height: 5; }
    .kpi { width: 1fr; height: 5; }
    #queue { height: 1fr; min-height: 10; }
    #kinds { height: auto; max-height: 2; }
    #detail { height: auto; max-height: 4; color: $text-muted; }
    #chart { height: 10; }
    """
    BINDINGS = [Binding(k, f"nothing('{k}')", d) for k, d in (
        ("a", "Do"), ("x", "Done"), ("z", "Snooze"), ("f", "Kind"), ("t", "Log touchpoint"),
        ("f1", "Help"), ("f2", "Dashboard"), ("f3", "Partners"), ("s", "Survey"))]

    def action_nothing(self, key):
        pass

    def compose(self):
        yield Header()
        with Horizontal(id="kpis"):
            for label in ("Referrals this month", "Active partners", "Reached MCID", "NPS"):
                yield Static(label, classes="kpi panel")
        with Vertical(id="queue", classes="panel") as queue:
            queue.border_title = "Alert queue (47 to do)"
            yield Static("", id="kinds", markup=False)
            yield DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
            yield Static("", id="detail", markup=False)
        chart = Static("", id="chart", classes="panel")
        chart.border_title = "Referrals per month (last 24 months)"
        yield chart
        yield Footer()

    def on_mount(self):
        conn = sqlite3.connect(sys.argv[1])
        names = [r[0] for r in conn.execute("SELECT name FROM partners ORDER BY name LIMIT 30")]
        conn.close()
        for panel, text in zip(self.query(".kpi"), (
                "Referrals this month\n42  (38 last month)", "Active partners\n27 of 31",
                "Reached MCID\n64%  n=118\nreferred in 12 mo",
                "NPS\n+52 ±9  n=96\nlast 12 months")):
            panel.update(text)
        self.query_one("#kinds", Static).update(
            "4 patients not improving · 1 partner at risk · 27 letters owed · 6 touches overdue"
            " · 9 referrals not scheduled")
        table = self.query_one(DataTable)
        table.add_columns("kind", "partner", "what", "since")
        table.add_rows([("letter owed", name, f"Discharge summary owed for episode E{k:05d}",
                         f"{k + 3} days") for k, name in enumerate(names[:27])])
        self.query_one("#detail", Static).update(
            "Discharge summary owed: discharged 12 days ago, nothing sent to the referrer.\n"
            "a: write the letter · x: done · z: snooze 7 days")
        self.query_one("#chart", Static).update("\n".join(
            " ".join("█" * ((k * 7 + row * 3) % 5 + 1) for k in range(24)) for row in range(8)))
        table.focus()

SameScreen().run()
'''


class Tmux:
    """A private tmux server (its own socket) for the whole run."""

    def __init__(self, name: str = "outcomes-bench") -> None:
        self.socket = f"{name}-{os.getpid()}"
        self.last_cpu: float | None = None
        """CPU seconds (user + system) the last timed process had used when its screen was
        shown: on a machine shared with other work, wall-clock times stretch with the load,
        CPU times much less."""
        self._run("new-session", "-d", "-s", "idle", "-x", str(WIDTH), "-y", str(HEIGHT))

    def _run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True,
                              capture_output=True, text=True).stdout

    def time_until(self, command: list[str], shown: Callable[[str], bool],
                   env: dict[str, str] | None = None) -> float:
        """Seconds from starting ``command`` in a new 160x48 session to ``shown(screen)``."""
        session = f"s{time.monotonic_ns()}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        line = f"cd {shlex.quote(str(ROOT))} && exec env {exports} {shlex.join(command)}"
        start = time.perf_counter()
        self._run("new-session", "-d", "-s", session, "-x", str(WIDTH), "-y", str(HEIGHT),
                  line)
        self.last_cpu = None
        try:
            pid = int(self._run("display-message", "-p", "-t", session, "#{pane_pid}"))
            while True:
                try:
                    screen = self._run("capture-pane", "-p", "-t", session)
                except subprocess.CalledProcessError:
                    raise RuntimeError(f"{command[0]} exited before its screen was shown") \
                        from None
                if shown(screen):
                    seconds = time.perf_counter() - start
                    self.last_cpu = cpu_seconds(pid)
                    return seconds
                if time.perf_counter() - start > TIMEOUT_S:
                    raise TimeoutError(f"no complete screen after {TIMEOUT_S:.0f} s:\n{screen}")
                time.sleep(POLL_S)
        finally:
            subprocess.run(["tmux", "-L", self.socket, "kill-session", "-t", session],
                           capture_output=True)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far, with its children's (Linux
    ``/proc``; None elsewhere or once it has exited): the dashboard forks its first reads on
    a big file (outcomes.reports.first_screen), and their CPU is the command's too."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # Fields 14-17 of stat(5) (utime, stime, and cutime, cstime: children already waited
    # for), counted after the ")" ending the name; then the children still running.
    ticks = sum(int(f) for f in fields[11:15])
    for child in _children(pid):
        seconds = cpu_seconds(child)
        if seconds is not None:
            ticks += round(seconds * os.sysconf("SC_CLK_TCK"))
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """The running children of ``pid`` (every thread's ``children`` list, Linux 3.5+)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                found += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return found


def expected_alert_names(db_path: Path, today: date, rows: int = 3) -> list[str]:
    """The partner names of the alert queue's first rows as the dashboard displays them: the
    whole queue (the last of ``queue_stages``, equal to ``work_queue``), each kind's first
    ``PREVIEW`` rows, the most urgent kind first; rows without a partner (shown as "—") are
    skipped.

    Not ``compute_alerts``' order: its first alerts can belong to kinds the screen lists later
    (on the demo they did), which made the harness wait for rows further down the queue than
    the first screen shows."""
    from outcomes.network.queue import work_queue
    from outcomes.store.database import open_db
    from outcomes_tui.screens.dashboard import PREVIEW

    db = open_db(db_path)
    try:
        queue = work_queue(db, today)
        names = [item.alert.partner for g in queue.groups for item in g.items[:PREVIEW]
                 if item.alert.partner]
    finally:
        db.close()
    return names[:rows]


def dashboard_shown(names: list[str]) -> Callable[[str], bool]:
    """KPI numbers in place of their "…" placeholders, and the first alerts' partner names
    (their first 14 characters: a narrow column may cut the rest)."""
    prefixes = [n[:14] for n in names]

    def shown(screen: str) -> bool:
        lines = screen.splitlines()
        for k, line in enumerate(lines):
            if "Active partners" in line and "NPS" in line:  # the KPI labels
                values = next((v for v in lines[k + 1:k + 4] if v.strip()), "")
                if "…" in values or not any(ch.isdigit() for ch in values):
                    return False
                break
        else:
            return False
        return all(p in screen for p in prefixes)

    return shown


def minimal_shown(db_path: Path) -> Callable[[str], bool]:
    import sqlite3

    conn = sqlite3.connect(db_path)
    first = conn.execute("SELECT name FROM partners ORDER BY name LIMIT 1").fetchone()[0]
    conn.close()
    return lambda screen: first[:14] in screen


def compile_sources() -> None:
    """Write the bytecode of ``outcomes`` and ``outcomes_tui`` beside their sources, as
    installing the wheel does (pip compiles every module it installs).

    The floor's modules (Textual, Rich) are installed and compiled; ours run from the checkout
    (an editable install), where an environment with PYTHONDONTWRITEBYTECODE set (these
    machines have it) never caches the bytecode, so every start compiled our ~200 modules from
    source: a cost no installed copy pays, charged to ours alone."""
    import compileall

    for folder in ("src", "tui"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)


def outcomes_command() -> list[str]:
    script = Path(sys.executable).parent / "outcomes"
    return [str(script)] if script.exists() else [sys.executable, "-m", "outcomes.cli"]


def measure(tmux: Tmux, db_path: Path, today: date) -> tuple[float, float]:
    """(dashboard, minimal app) seconds to their complete first screen on ``db_path``."""
    ours, floor, _cpu = measure_with_cpu(tmux, db_path, today)
    return ours, floor


def measure_with_cpu(tmux: Tmux, db_path: Path, today: date
                     ) -> tuple[float, float, tuple[float | None, float | None]]:
    """As :func:`measure`, with the CPU seconds each process had used at that moment."""
    names = expected_alert_names(db_path, today)
    # A private HOME-like config would change nothing here: the dashboard reads only the DB.
    ours = tmux.time_until([*outcomes_command(), "--db", str(db_path)],
                           dashboard_shown(names))
    ours_cpu = tmux.last_cpu
    floor = tmux.time_until([sys.executable, "-c", MINIMAL_APP, str(db_path)],
                            minimal_shown(db_path))
    return ours, floor, (ours_cpu, tmux.last_cpu)


def measure_same_screen(tmux: Tmux, db_path: Path) -> tuple[float, float | None]:
    """Seconds and CPU seconds of ``SAME_SCREEN_APP`` to its complete screen (the first
    partner name in its table, as the minimal app's)."""
    seconds = tmux.time_until([sys.executable, "-c", SAME_SCREEN_APP, str(db_path)],
                              minimal_shown(db_path))
    return seconds, tmux.last_cpu
