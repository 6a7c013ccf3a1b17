"""Home: this month's referrals, active partners, MCID rate and NPS, the alert queue, a chart.

The alert queue is worked here: grouped by kind with counts, the most urgent kind first, ``f``
to show one kind, ``x`` done, ``z`` snooze a week, ``a`` the kind's action (the rules and the
states are the core's, ``outcomes.network.queue``). An empty database opens on a short guide
instead of empty panels.
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from outcomes.periods import add_months
from outcomes.reports.dashboard import DashboardSummary, dashboard_mcid, database_version
from outcomes.reports.first_screen import PARTIAL_AFTER_S, FirstScreen, summary_reads
from outcomes.reports.rollups import Rate
from outcomes_tui.context import app_of
from outcomes_tui.internals import prime_update_timer
from outcomes_tui.messages import DashboardLoaded, DashboardShown, McidLoaded, RecordSaved
from outcomes_tui.widgets.footer import KeysFooter
from outcomes_tui.widgets.plot import Plot, Series

if TYPE_CHECKING:  # the first paint must not wait for the alert modules
    from outcomes.network.queue import FirstRun, Queue, QueueItem

MAX_ALERTS = 200
"""Rows shown for one kind (adding rows blocks the interface ~0.2 s per 1,000)."""

PREVIEW = 5
"""Rows of each kind shown when no kind is chosen: 74 updates owed never bury the rest."""

FIRST_PAINT_MAX_S = 0.5
"""The longest the dashboard's first frame waits for its numbers and queue (then it shows
what it has, with "…" for the rest)."""

PAINT_WAIT_S = 0.5
"""How long the alert worker waits for the first rows to be painted before it goes on."""

# The kind of each row, short, in plain words (the group counts use the core's longer names).
KIND_LABELS = {
    "relationship_at_risk": "at risk",
    "referral_unscheduled": "not scheduled",
    "patient_worsening": "not improving",
    "touch_overdue": "touch overdue",
    "first_referral": "first referral",
    "update_owed": "update owed",
    "document_owed": "letter owed",
    "findings_overdue": "findings late",
    "spend_limit": "gift/meal spend",
    "detractor": "unhappy patient",
}


QUEUE_ACTIONS = frozenset({"open_partner", "act", "done", "snooze", "filter", "log_touchpoint",
                           "write_letter", "log_update", "undo"})


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " "))


@dataclass(eq=False, repr=False)  # an event (see outcomes_tui.messages)
class QueueLoaded(Message):
    """The alert queue read for the dashboard, whole or its first kinds."""

    queue: Queue
    generation: int
    """Which read of the queue (``DashboardScreen.load_alerts``): an older one's is stale."""
    painted: threading.Event | None = None
    """Set once a partial queue is on screen: its worker waits for it before computing the
    rest, which would otherwise share the interpreter with the painting of the first rows."""


@dataclass(eq=False, repr=False)  # an event (see outcomes_tui.messages)
class FirstRunChecked(Message):
    """A new clinic's first steps and which are done (the guide replaces the panels on an empty
    database)."""

    first_run: FirstRun


@dataclass(eq=False, repr=False)  # an event (see outcomes_tui.messages)
class QueueChanged(Message):
    """An alert was marked done, snoozed or reopened; ``key`` is the alert's key."""

    text: str
    key: str


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _change(now: int, then: int, colours: dict[str, str]) -> Text:
    if then == 0:
        return Text("—", style="dim")
    delta = (now - then) / then
    if -0.05 <= delta <= 0.05:
        # The text's own colour: a colour read from the theme would stay behind when the
        # theme changes (the light theme drew the dark theme's white on white).
        return Text(f"{delta:+.0%}")
    name = "text-success" if delta > 0 else "text-error"
    return Text(f"{delta:+.0%}", style=colours.get(name, ""))


@cache
def clinic_name_form() -> type[Screen[bool]]:
    """The one-field form that names the clinic, ``outcomes.network.queue.name_clinic`` (the
    same as ``outcomes settings set clinic_name``). Built on first use: the forms' base module
    and its widgets stay off the dashboard's start-up path (~10 ms)."""
    from textual.widgets import Input

    from outcomes_tui.forms.base import FormScreen, field

    class ClinicNameForm(FormScreen):
        FORM_TITLE = "Name the clinic"
        AUTO_FOCUS = "#clinic-name"
        COMMAND_GROUP = "clinic"

        def __init__(self, current: str = "") -> None:
            super().__init__()
            self.current = current

        def fields(self) -> ComposeResult:
            yield from field("Clinic name (on letters and packets)",
                             Input(self.current, id="clinic-name"))

        def prepare(self) -> Any:
            from outcomes.network.queue import validate_clinic_name

            return validate_clinic_name(self.value("#clinic-name"))

        def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
            from outcomes.network.queue import name_clinic

            return RecordSaved(name_clinic(db, job))

    return ClinicNameForm


class DashboardScreen(Screen[None]):
    """What needs doing now, and how the clinic is doing."""

    CSS_PATH = "dashboard.tcss"
    COMMAND_GROUP = "dashboard"
    PARTIAL_AFTER_S: ClassVar[float] = PARTIAL_AFTER_S
    """The first rows of the alert queue are shown before the rest only when computing them
    took this much CPU time (a big history: ~0.1 s): a queue ready at once is shown once,
    without a second fill and repaint (~0.1 CPU s on the demo)."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_partner", "Open", show=False, id="dashboard.open_partner",
                tooltip="Open the partner of the selected alert"),
        Binding("a", "act", "Do", id="dashboard.act",
                tooltip="The selected alert's action: log the call or visit, write the owed "
                        "letter, or open the partner"),
        Binding("x", "done", "Done", id="dashboard.done",
                tooltip="Mark the selected alert done (it comes back if its facts change)"),
        Binding("z", "snooze", "Snooze", id="dashboard.snooze",
                tooltip="Hide the selected alert for 7 days (or until its facts change)"),
        Binding("f", "filter", "Kind", id="dashboard.filter",
                tooltip="Show one kind of alert at a time (press again for the next kind)"),
        Binding("t", "log_touchpoint", "Log touchpoint", id="dashboard.log_touchpoint",
                show=False, tooltip="Log a call, visit or letter to the selected alert's partner"),
        Binding("l", "write_letter", "Write letter", id="dashboard.write_letter", show=False,
                tooltip="Write the progress update or discharge summary the alert's episode "
                        "owes its referrer"),
        Binding("u", "log_update", "Log update sent", id="dashboard.log_update", show=False,
                tooltip="Record that the update owed for the selected alert was sent"),
        Binding("U", "undo", "Undo", id="dashboard.undo", show=False,
                tooltip="Bring back the alert last marked done or snoozed"),
        Binding("n", "name_clinic", "Name clinic", id="dashboard.name_clinic", show=False,
                tooltip="Set the clinic's name (it heads letters and packets)"),
        Binding("r", "refresh", "Refresh", id="dashboard.refresh", show=False,
                tooltip="Reload the numbers and the alert queue"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.queue: Queue | None = None
        self.rows: list[QueueItem] = []
        self.kind: str | None = None
        """The kind shown alone (``f``), or None for every kind."""
        self.first: FirstRun | None = None
        self.last_changed: str | None = None
        """Key of the alert last marked done or snoozed, for ``U``."""
        self._chart: list[tuple[str, int]] | None = None
        """Referrals per month waiting for the queue before they are drawn."""
        self._queue_failed = False
        """The alert queue failed: the chart is drawn without waiting for it."""
        self._version: int | None = None
        """The database's version (``database_version`` on this thread's connection) when the
        numbers and the queue were last read."""
        self._drawn: list[tuple[str, int]] | None = None
        """Referrals per month as last drawn (the same numbers are not drawn again)."""
        self._generation = 0
        """The latest read of the alert queue: what an older read posts is dropped."""
        self._shown = False
        """A complete alert queue has been shown (the warm-up of the other screens waits)."""
        self._hold: AbstractContextManager[None] | None = None
        """Painting held until the first reads are in (_hold_first_paint)."""
        self._held: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="body"):
            yield Static("", id="guide", classes="panel")
            with Horizontal(id="kpis"):
                yield Static("Referrals this month\n…", id="kpi-month", classes="kpi panel")
                yield Static("Active partners\n…", id="kpi-partners", classes="kpi panel")
                yield Static("Reached MCID\n…", id="kpi-mcid", classes="kpi panel")
                yield Static("NPS\n…", id="kpi-nps", classes="kpi panel")
            with Vertical(id="queue", classes="panel") as queue:
                queue.border_title = "Alert queue"
                yield Static("", id="queue-kinds", markup=False)
                yield DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
                yield Static("", id="alert-detail", markup=False)
            yield Plot("Referrals per month (last 24 months)", id="chart", classes="panel")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#guide").display = False
        self.query_one("#alerts", DataTable).focus()
        self._hold_first_paint()
        self.action_refresh()

    def _hold_first_paint(self) -> None:
        """No frame until the numbers, the MCID rate and the queue are in (or FIRST_PAINT_MAX_S
        has passed): one layout and one paint of the whole screen, where placeholders, then
        the numbers, then the queue made three, each of which the reads waited behind (they
        share the interpreter). The body is hidden meanwhile: Textual still lays out and
        renders a screen whose output is held, and the placeholders' layouts and renders
        (20-35 ms of the demo's start) were thrown away."""
        self._held = {"summary", "mcid", "queue"}
        self._hold = self.app.batch_update()
        self._hold.__enter__()
        self.query_one("#body").display = False
        prime_update_timer(self)  # the frame is drawn as soon as the hold ends
        self.set_timer(FIRST_PAINT_MAX_S, self._release_first_paint)

    def _arrived(self, part: str) -> None:
        self._held.discard(part)
        if not self._held:
            self._release_first_paint()

    def _release_first_paint(self) -> None:
        hold, self._hold = self._hold, None
        if hold is not None:
            self.query_one("#body").display = True
            hold.__exit__(None, None, None)

    def on_screen_suspend(self) -> None:
        self._release_first_paint()  # another screen is shown: it must paint

    def on_screen_resume(self) -> None:
        # Back from another screen (an import, a touchpoint logged on a partner): the numbers,
        # the queue and the first-run steps may have changed. Not on the first show: on_mount
        # has started the loads. Nothing written since they were read (any connection, any
        # process): what is on screen is current, and reading it all again stalled the return
        # ~0.2 s on a big history (the chart redrawn, the table refilled).
        if self.first is None:
            return
        if self._queue_failed or self._version is None \
                or database_version(app_of(self).reader()) != self._version:
            self.action_refresh()

    def action_refresh(self) -> None:
        app = app_of(self)
        # The first read takes what the command's child process has read meanwhile
        # (outcomes.reports.first_screen); every later one reads for itself.
        first = app.take_first_screen()
        # Taken before the reads start: a write during them changes it, and the next return
        # to this screen reads again.
        self._version = first.version if first else database_version(app.reader())
        self._queue_failed = False
        # What has arrived is shown at once, in the screen's first frame; the rest is read
        # by the workers (waiting for the child first, when there is one). The three reads
        # run together, each on its own thread and connection: the numbers (a few
        # indexed/rollup queries), the MCID rate (the slowest number) and the alert queue
        # (which imports and computes much more). SQLite releases the GIL while it works,
        # and the user waits for all three: the queue started after the numbers were
        # painted made the first complete screen ~0.1-0.3 s later.
        if first is not None and first.summary is not None:
            self._show_summary(*first.summary)
        else:
            self.load_summary(first)
        if first is not None and first.mcid is not None:
            self.on_mcid_loaded(McidLoaded(first.mcid))
        else:
            self.load_mcid(first)
        handed = first.queue if first is not None else None
        if first is not None and handed is not None:
            self._generation += 1
            self.on_queue_loaded(QueueLoaded(handed, self._generation))
            if not handed.complete:
                first.stop()
                self.load_alerts()  # the whole queue, after its first kinds
        else:
            self.load_alerts(first)

    def _show_summary(self, run: FirstRun, summary: DashboardSummary) -> None:
        self.on_first_run_checked(FirstRunChecked(run))
        self.on_dashboard_loaded(DashboardLoaded(summary))

    @work(thread=True, exclusive=True, group="dashboard-summary", exit_on_error=False)
    def load_summary(self, first: FirstScreen | None = None) -> None:
        app = app_of(self)
        handed = first.wait("summary") if first is not None else None
        run, summary = summary_reads(app.reader(), app.today) if handed is None else handed
        self.post_message(FirstRunChecked(run))
        self.post_message(DashboardLoaded(summary))

    @work(thread=True, exclusive=True, group="dashboard-mcid", exit_on_error=False)
    def load_mcid(self, first: FirstScreen | None = None) -> None:
        app = app_of(self)
        handed = first.wait("mcid") if first is not None else None
        self.post_message(McidLoaded(dashboard_mcid(app.reader(), app.today) if handed is None
                                     else handed))

    def on_mcid_loaded(self, message: McidLoaded) -> None:
        self._arrived("mcid")
        rate: Rate = message.rate
        self.query_one("#kpi-mcid", Static).update(Text.assemble(
            ("Reached MCID\n", "bold"), (_pct(rate.rate), "bold"),
            f" n={rate.n}\nreferred in 12 mo"))

    def load_alerts(self, first: FirstScreen | None = None) -> None:
        self._generation += 1
        # Only the first read shows a partial queue: later reads (after a refresh, a done or
        # a snooze) keep the complete queue on screen until the new one is whole.
        self._read_alerts(self._generation, partial=self.queue is None, first=first)

    @work(thread=True, exclusive=True, group="dashboard-alerts", exit_on_error=False)
    def _read_alerts(self, generation: int, partial: bool,
                     first: FirstScreen | None = None) -> None:
        import outcomes.network.alerts  # noqa: F401  # the rules' modules, before the clock
        from outcomes.network.queue import queue_stages

        handed = first.wait("queue") if first is not None else None
        if first is not None and handed is not None:
            # The child's: whole, or the first kinds of a big queue (the rest is too big to
            # hand over cheaply, and is read here).
            if handed.complete:
                self.post_message(QueueLoaded(handed, generation))
                return
            first.stop()
            partial = False
            self._post_first_part(handed, generation)
        # The plain read-only connection: the queue's rules need no sqlite-utils, whose
        # import (with pandas' and numpy's look-ups) cost the first screen ~0.1 s of CPU.
        app = app_of(self)
        worker = get_current_worker()
        # This thread's CPU time from here, not the clock: on a loaded machine (or while the
        # first frame is painted) the demo's first kinds took over PARTIAL_AFTER_S of wall
        # time, and its queue, whole a few milliseconds later, was shown in two fills.
        started = time.thread_time()
        for queue in queue_stages(app.reader(), app.today):
            if worker.is_cancelled:  # a newer read (exclusive) replaced this one
                return
            if queue.complete:
                self.post_message(QueueLoaded(queue, generation))
            elif partial and time.thread_time() - started >= self.PARTIAL_AFTER_S:
                # The first rows of a big history's queue: shown, and painted, before the
                # rest (the owed letters, the declines) is computed.
                partial = False
                self._post_first_part(queue, generation)

    def _post_first_part(self, queue: Queue, generation: int) -> None:
        """Show the first kinds of the queue and wait (on the worker) until they are painted:
        the rest, computed next, would share the interpreter with that painting."""
        painted = threading.Event()
        self.post_message(QueueLoaded(queue, generation, painted))
        painted.wait(PAINT_WAIT_S)

    # --- first run ------------------------------------------------------------------------

    def on_first_run_checked(self, message: FirstRunChecked) -> None:
        self.first = first = message.first_run
        guide = self.query_one("#guide", Static)
        for selector in ("#kpis", "#queue", "#chart"):
            self.query_one(selector).display = not first.empty
        guide.display = first.empty
        self.refresh_bindings()
        if self.queue is not None:
            self._show_detail()  # the queue came first: its empty line names the next step
        if not first.empty:
            return
        guide.border_title = "Getting started"
        lines: list[Any] = [("Welcome. Three steps set up a new clinic:\n\n", "bold")]
        for number, (step, done) in enumerate(first.steps, 1):
            lines += [(f" {number}. ", "bold"), ("done: " if done else "", "dim"),
                      self._step_words(step), "\n"]
        lines += ["\n", ("The dashboard fills in once the first partner or referral is "
                         "recorded. Press ? for every key, ctrl+p for every command.", "dim")]
        guide.update(Text.assemble(*lines))

    def _step_words(self, step: str) -> str:
        name = self.first.clinic_name if self.first else ""
        return {
            "clinic_name": f"Name the clinic (now {name!r}): press n",
            "partners": "Add your referral sources: press p for the partners, then ctrl+n for "
                        "a new partner (or i to import a CSV file)",
            "referral": "Record a referral: press e for the patients, then ctrl+n for a new "
                        "referral (or i to import a referrals CSV file)",
        }.get(step, step)

    def action_name_clinic(self) -> None:
        named = self.first is not None and self.first.clinic_named
        form = clinic_name_form()
        self.app.push_screen(form(self.first.clinic_name if named and self.first else ""),
                             self._after_form)

    # --- numbers and chart ----------------------------------------------------------------

    def on_dashboard_loaded(self, message: DashboardLoaded) -> None:
        self._arrived("summary")
        s: DashboardSummary = message.summary
        colours = self.app.theme_variables
        last_month = add_months(s.today, -1).strftime("%b")
        year_ago = add_months(s.today, -12).strftime("%b %Y")
        self.query_one("#kpi-month", Static).update(Text.assemble(
            (f"Referrals {s.today:%b} 1–{s.today.day}\n", "bold"),
            (f"{s.month_to_date}", "bold"),
            " vs ", _change(s.month_to_date, s.last_month_same_days, colours),
            f" {last_month} ({s.last_month_same_days})\n",
            "vs ", _change(s.month_to_date, s.year_ago_same_days, colours),
            f" {year_ago} ({s.year_ago_same_days})",
        ))
        self.query_one("#kpi-partners", Static).update(Text.assemble(
            ("Active partners\n", "bold"), (f"{s.active_partners}", "bold"),
            f" of {s.partners_total}\nreferred in 90 days"))
        if s.mcid is not None:
            self.on_mcid_loaded(McidLoaded(s.mcid))
        nps = "—" if s.nps.score is None else f"{s.nps.score:+.0f}"
        moe = "" if s.nps.moe95 is None else f" ±{s.nps.moe95:.0f}"
        self.query_one("#kpi-nps", Static).update(Text.assemble(
            ("NPS\n", "bold"), (nps, "bold"), f"{moe} n={s.nps.n}\nlast 12 months"))
        self._chart = s.per_month
        if (self.queue is not None and self.queue.complete) or self._queue_failed:
            self._draw_chart()

    def _draw_chart(self) -> None:
        """The chart once the alert queue is on screen: drawing it imports plotext (~0.17 s)
        in a thread, which slowed the queue the user came for by as much."""
        if self._chart is None:
            return
        if self._chart == self._drawn:  # plotext rebuilds the chart on the main thread
            self._chart = None
            return
        self._drawn = self._chart
        labels = [k for k, _ in self._chart]
        self.query_one(Plot).set_data(
            [Series(labels, [float(n) for _, n in self._chart])],
            message="Referrals per month: no data yet (the chart fills in as referrals are "
                    "recorded).",
        )
        self._chart = None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self._release_first_paint()  # its error is shown: nothing more to wait for
        # A queue that failed (the app shows its error) must not keep the chart off screen.
        if event.worker.group == "dashboard-alerts" and event.state == WorkerState.ERROR:
            self._queue_failed = True  # the numbers may come after: they draw it then
            self._draw_chart()
            self._title()  # a partial queue on screen says the rest failed

    # --- the queue ------------------------------------------------------------------------

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        self._arrived("queue")
        if message.generation != self._generation:
            return  # a read replaced by a newer one (a done, a snooze, r)
        self.queue = message.queue
        if self.kind is not None and self.queue.group(self.kind) is None:
            self.kind = None  # the last alert of the chosen kind is gone
        self._fill()
        if message.painted is not None:
            self.call_after_refresh(message.painted.set)
        if not self.queue.complete:
            return
        # Two refreshes on: the table adds its rows' lines on its own idle, a frame after the
        # one that lays the queue out, and the work that follows the first screen (the
        # chart's first drawing imports plotext in a thread; DashboardShown turns the
        # collector back on and starts the warm-up) delayed that frame by ~10-40 ms of the
        # interpreter. Interleaved in tmux: the demo's first complete screen came 39 ms
        # sooner, the big database's 11 ms.
        self.call_after_refresh(self.call_after_refresh, self._queue_painted)

    def _queue_painted(self) -> None:
        """The complete queue is on screen: the chart, and the app's after-start work."""
        self._draw_chart()
        if not self._shown:
            self._shown = True
            self.post_message(DashboardShown())

    @property
    def queue_loading(self) -> bool:
        """Only the first part of the alert queue is on screen; the rest is being computed."""
        return self.queue is not None and not self.queue.complete

    def _visible(self) -> list[QueueItem]:
        if self.queue is None:
            return []
        if self.kind is not None:
            return self.queue.items(self.kind)[:MAX_ALERTS]
        return [item for g in self.queue.groups for item in g.items[:PREVIEW]]

    def _fill(self, keep_cursor: bool = True) -> None:
        table = self.query_one("#alerts", DataTable)
        previous = self._current() if keep_cursor else None
        row = table.cursor_row
        self.rows = self._visible()
        self._title()
        self._kinds_line()
        # Columns sized for what they hold; the message takes the rest of the width (its
        # whole text is in the detail below).
        what = max([4, *(len(kind_label(i.kind)) for i in self.rows)])
        partner = min(max([7, *(len(i.alert.partner or "—") for i in self.rows)]), 28)
        width = table.size.width or self.size.width - 4
        why = max(width - what - partner - 6 - 2, 20)
        with self.app.batch_update():
            table.clear(columns=True)
            # Labels as Text: a str is parsed as markup, and its first parse loads Rich's
            # emoji table (3 ms of the first screen).
            table.add_column(Text("What"), key="kind", width=what)
            table.add_column(Text("Partner"), key="partner", width=partner)
            table.add_column(Text("Why"), key="message", width=why)
            for item in self.rows:
                table.add_row(Text(kind_label(item.kind)), Text(item.alert.partner or "—"),
                              Text(item.alert.message), key=item.key)
        if previous is not None:
            keys = [i.key for i in self.rows]
            # Same alert if still there, else the row that took its place.
            target = keys.index(previous.key) if previous.key in keys else row
            table.move_cursor(row=max(0, min(target, len(self.rows) - 1)))
        self._show_detail()

    def _title(self) -> None:
        queue = self.queue
        box = self.query_one("#queue")
        if queue is None:
            return
        if not queue.complete:
            more = ("the rest failed to load; r: try again" if self._queue_failed else
                    "loading the rest…")
            box.border_title = f"Alert queue (first kinds; {more})"
            return
        hidden = [f"{n} {what}" for n, what in ((queue.done, "done"),
                                                 (queue.snoozed, "snoozed")) if n]
        extra = f", {' and '.join(hidden)} hidden" if hidden else ""
        if self.kind is None:
            shown = (f"; up to {PREVIEW} of each kind"
                     if any(g.count > PREVIEW for g in queue.groups) else "")
            box.border_title = f"Alert queue ({queue.total} to do{extra}{shown})"
        else:
            group = queue.group(self.kind)
            label = group.label if group else self.kind
            box.border_title = f"Alert queue ({label}{extra}; f: next kind)"

    def _kinds_line(self) -> None:
        from outcomes.network.queue import count_label

        queue = self.queue
        line = self.query_one("#queue-kinds", Static)
        if queue is None or not queue.groups:
            line.update(Text(""))
            return
        width = line.size.width or self.size.width - 4
        text, used = Text(), 0
        for index, group in enumerate(queue.groups):
            label = count_label(group.kind, group.count)
            # Break between groups, never inside "74 updates owed".
            if index and used + 3 + len(label) > width:
                text.append("\n")
                used = 0
            elif index:
                text.append(" · ", style="dim")
                used += 3
            chosen = group.kind == self.kind
            text.append(label, style="bold reverse" if chosen else
                        "bold" if self.kind is None else "")
            used += len(label)
        if not queue.complete:
            text.append(" · …", style="dim")
        line.update(text)

    def on_resize(self) -> None:
        if self.queue is not None:
            self._fill()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open_partner()

    def _current(self) -> QueueItem | None:
        table = self.query_one("#alerts", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _show_detail(self) -> None:
        from outcomes.network.queue import ACTION_LABELS, evidence_sentences

        item = self._current()
        detail = self.query_one("#alert-detail", Static)
        if item is None:
            text = Text("Nothing needs doing right now.", style="dim")
            steps = [] if self.first is None else [s for s, done in self.first.steps if not done]
            if steps:
                text.append(f"\nNext: {self._step_words(steps[0])}.")
            detail.update(text)
            return
        alert = item.alert
        detail.update(Text.assemble(
            (alert.message, "bold"), " ", alert.suggested_action, " (",
            ("a", "bold"), f": {ACTION_LABELS[item.action]})\n",
            (" ".join(evidence_sentences(alert)), "dim"),
        ))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The queue's keys are hidden while the first-run guide is shown."""
        return not (action in QUEUE_ACTIONS and self.first is not None and self.first.empty)

    def action_filter(self) -> None:
        if self.queue_loading:
            # Its kinds are not all known yet: cycling through some of them would skip the
            # rest without a word.
            self.notify("The alert queue is still loading.", severity="information")
            return
        if self.queue is None or not self.queue.groups:
            self.notify("The queue is empty.", severity="information")
            return
        kinds: list[str | None] = [None, *self.queue.kinds]
        self.kind = kinds[(kinds.index(self.kind) + 1) % len(kinds)] \
            if self.kind in kinds else None
        self._fill(keep_cursor=False)

    # --- done, snooze, undo ---------------------------------------------------------------

    def action_done(self) -> None:
        item = self._current()
        if item is None:
            self.notify("Select an alert first.", severity="warning")
            return
        self.change_state(item, "done")

    def action_snooze(self) -> None:
        item = self._current()
        if item is None:
            self.notify("Select an alert first.", severity="warning")
            return
        self.change_state(item, "snooze")

    def action_undo(self) -> None:
        if self.last_changed is None:
            self.notify("Nothing to undo.", severity="information")
            return
        self.change_state(None, "reopen", self.last_changed)

    @work(thread=True, group="write", exit_on_error=False)
    def change_state(self, item: QueueItem | None, how: str, key: str = "") -> None:
        from outcomes.network import queue

        app = app_of(self)
        db = app.db()
        if how == "done" and item is not None:
            self.post_message(QueueChanged(queue.mark_done(db, item) + " (U: undo)", item.key))
        elif how == "snooze" and item is not None:
            self.post_message(QueueChanged(queue.snooze(db, item, app.today) + " (U: undo)",
                                           item.key))
        else:
            back = queue.reopen(db, key)
            self.post_message(QueueChanged("The alert is back in the queue." if back else
                                           "Nothing to undo.", ""))

    def on_queue_changed(self, message: QueueChanged) -> None:
        self.last_changed = message.key or None
        self.notify(message.text, title="Alert queue", markup=False)
        self.load_alerts()

    # --- actions --------------------------------------------------------------------------

    def action_act(self) -> None:
        from outcomes.network.queue import LOG_TOUCHPOINT, WRITE_LETTER

        item = self._current()
        if item is None:
            self.notify("Select an alert first.", severity="warning")
            return
        if item.action == LOG_TOUCHPOINT:
            self.action_log_touchpoint()
        elif item.action == WRITE_LETTER:
            self.action_write_letter()
        else:
            self.action_open_partner()

    def action_open_partner(self) -> None:
        item = self._current()
        if item is None or item.alert.partner_id is None:
            self.notify("This alert has no partner to open.", severity="warning")
            return
        from outcomes_tui.screens.partner_detail import PartnerDetailScreen

        self.app.push_screen(PartnerDetailScreen(item.alert.partner_id))

    def action_log_touchpoint(self) -> None:
        item = self._current()
        if item is None or item.alert.partner_id is None:
            self.notify("Select an alert with a partner first.", severity="warning")
            return
        from outcomes_tui.forms.touchpoint import TouchpointForm

        self.app.push_screen(TouchpointForm(item.alert.partner_id, item.alert.partner or ""),
                             self._after_form)

    def _owed(self) -> QueueItem | None:
        item = self._current()
        if item is None or item.alert.partner_id is None or not item.alert.episode_id:
            self.notify("Select an 'update owed' alert first.", severity="warning")
            return None
        return item

    def action_write_letter(self) -> None:
        item = self._owed()
        if item is None:
            return
        from outcomes_tui.forms.letter import LetterForm

        # The owed document decides the letter (an owed plan of care is sent with the
        # evaluation summary).
        kind = {"evaluation_summary": "evaluation", "plan_of_care": "evaluation",
                "progress_note": "progress", "discharge_summary": "discharge"}.get(
            str(item.alert.evidence.get("document", "")))
        discharged = item.alert.evidence.get("milestone", "discharge") == "discharge"
        self.app.push_screen(
            LetterForm(item.alert.episode_id or "", item.alert.partner or "", discharged,
                       kind=kind),
            self._after_form)

    def action_log_update(self) -> None:
        item = self._owed()
        if item is None:
            return
        from outcomes_tui.forms.communication import CommunicationForm

        self.app.push_screen(
            CommunicationForm(item.alert.partner_id or 0, item.alert.partner or "",
                              item.alert.episode_id),
            self._after_form,
        )

    def _after_form(self, saved: bool | None) -> None:
        if saved:
            self.action_refresh()

    def on_record_saved(self, message: RecordSaved) -> None:
        self.action_refresh()
