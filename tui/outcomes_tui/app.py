"""The Textual dashboard: wires screens, bindings and the theme. Nothing else lives here."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.screen import Screen
from textual.worker import WorkerState

from outcomes.dates import today as local_today
from outcomes.lean_imports import install_lean_storage
from outcomes.store.connections import Connections, Reader
from outcomes_tui.commands import ScreenCommands
from outcomes_tui.feedback import plain_error
from outcomes_tui.integrity import IntegrityGate, damaged_screen
from outcomes_tui.internals import current_app, mark_styled, read_stylesheets
from outcomes_tui.keymap import KeymapError, load_keymap
from outcomes_tui.messages import DashboardShown
from outcomes_tui.registry import FORM_MODULES, ScreenEntry, screen_modules
from outcomes_tui.registry import MODES as SCREEN_MODES
from outcomes_tui.safety import ControlCharacters

if TYPE_CHECKING:
    from outcomes.reports.first_screen import FirstScreen
    from outcomes.store.database import Database

DARK, LIGHT = "textual-dark", "textual-light"
WARM_UP_FALLBACK_S = 10.0
"""When the warm-up starts if the dashboard never reports its first complete screen."""

INTEGRITY_START_MAX_S = 0.5
"""When the integrity check starts if the dashboard has not reported its first complete screen
by then (a failed read: a damaged file may be why)."""

START_GC_PAUSE_S = 3.0
"""The longest the collector stays paused at start-up (run_path) when the dashboard never
reports its first complete screen (a first run's guide, a failed read)."""

GC_IDLE_S = 3.0
"""Seconds without a key press or mouse input before the idle full collection may run. A key
pressed during that collection waits for it (~0.3 s on a big clinic): the longer the user has
already paused, the less likely the next key comes at that moment."""
GC_CHECK_S = 1.0
"""How often the idle hook looks (it does nothing unless a collection is due)."""
GC_FULL_THRESHOLD = 1000
"""The third garbage-collector threshold while the policy is on (CPython's default is 10): an
automatic full collection only after this many young (generation 1) collections, about 7
million objects kept alive since the last one, so it still comes for a user who never pauses."""


def _promotions() -> int:
    # Objects reach the oldest generation only through a generation-1 collection: while this
    # count stands still, a full collection has nothing new to look at.
    return int(gc.get_stats()[1]["collections"])


class CollectorPolicy:
    """The dashboard's garbage-collector policy: full collections when the user is idle.

    Why: CPython runs a full (generation 2) collection whenever the objects kept since the
    last one pass a quarter of the heap, and it walks every tracked object while every thread
    waits. On a big clinic the dashboard holds 175,000-330,000 of them (the alert queue,
    Textual's caches, the modules), and the full collection that landed in a screen change or
    a keystroke stalled the interface for 160-550 ms (docs/benchmarks.md). So, once the first
    screen and the warm-up are done, the start-up heap is collected once and frozen
    (``gc.freeze``: out of the collector's sight, never freed, and it lives as long as the
    app anyway), automatic full collections are pushed far away (GC_FULL_THRESHOLD), and a
    full collection of what came after runs when the user has left the keys alone for
    GC_IDLE_S and no worker runs. Young collections run as always, and the idle one frees the
    closed screens and forms. Frozen once only: a second freeze would keep what is alive at
    that moment, a closed screen's cycles included, for ever."""

    def __init__(self) -> None:
        self.on = False
        self.last_input = time.monotonic()
        self._saved: tuple[int, int, int] = gc.get_threshold()
        self._seen = -1
        self._paused = False

    def pause(self) -> None:
        """No automatic collection until :meth:`resume` (the start, up to the first complete
        screen or START_GC_PAUSE_S): CPython ran about 80 young collections (and a full one)
        between ``App.run`` and the demo's first screen, on objects that nearly all live as
        long as the app (widgets, styles, caches) and that :meth:`start` freezes anyway;
        reference counting still frees the rest."""
        if gc.isenabled():
            gc.disable()
            self._paused = True

    def resume(self) -> None:
        """Automatic collection back on, if :meth:`pause` turned it off."""
        if self._paused:
            self._paused = False
            gc.enable()

    def start(self) -> None:
        if self.on:
            return
        self._saved = gc.get_threshold()
        gc.collect()
        gc.freeze()
        young, middle, _ = self._saved
        gc.set_threshold(young, middle, GC_FULL_THRESHOLD)
        self._seen = _promotions()
        self.on = True

    def stop(self) -> None:
        """The app is closing: the process gets CPython's own policy back."""
        self.resume()
        if not self.on:
            return
        self.on = False
        gc.set_threshold(*self._saved)
        gc.unfreeze()

    def due(self, now: float, busy: bool) -> bool:
        """True when an idle full collection should run now."""
        return (self.on and not busy and now - self.last_input >= GC_IDLE_S
                and _promotions() != self._seen)

    def collect(self) -> None:
        gc.collect()
        self._seen = _promotions()


def _screen(entry: ScreenEntry) -> Screen[None]:
    import importlib

    screen: Screen[None] = getattr(
        importlib.import_module(f"outcomes_tui.screens.{entry.module}"), entry.cls)()
    mark_styled(screen, current_app())
    return screen


def _mode_factory(entry: ScreenEntry) -> Callable[[], Screen[None]]:
    return lambda: _screen(entry)


def _mode_bindings() -> list[BindingType]:
    return [Binding(entry.keys, f"go('{entry.mode}')", entry.title, id=f"app.{entry.mode}",
                    show=entry.show, tooltip=entry.tooltip) for entry in SCREEN_MODES]


class OutcomesApp(App[None]):
    """The therapist's daily workspace."""

    TITLE = "outcomes"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    COMMAND_GROUP = "app"
    # Imported when first shown, so start-up only loads the dashboard.
    MODES: ClassVar[dict[str, Any]] = {
        entry.mode: _mode_factory(entry) for entry in SCREEN_MODES}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,question_mark", "help", "Help", id="app.help",
                tooltip="List every key of this screen"),
        *_mode_bindings(),
        Binding("s,f5", "survey", "Survey", id="app.survey",
                tooltip="Enter a survey (outcome measure or NPS)"),
        # Priority, so the focus moves when the key arrives: a plain tab travels through the
        # focused field first, and keys typed right behind it landed in the old field.
        Binding("tab", "focus_next", "Next field", show=False, priority=True,
                id="app.next_field", tooltip="Move to the next field"),
        Binding("shift+tab", "focus_previous", "Previous field", show=False, priority=True,
                id="app.previous_field", tooltip="Move to the previous field"),
        Binding("ctrl+t", "toggle_theme", "Light/dark", id="app.theme", show=False,
                tooltip="Switch between the light and the dark theme"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", show=False, priority=True,
                tooltip="Leave the app (asks first when a form holds unsaved input)"),
    ]

    def __init__(self, db_path: Path, today: date | None = None,
                 first_screen: FirstScreen | None = None) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.today = first_screen.today if first_screen else today or local_today()
        self._first_screen = first_screen
        # Before any worker: whichever of them first imports a module that imports
        # sqlite-utils, numpy and pandas stay out (outcomes.lean_imports).
        install_lean_storage()
        # With the first reads: their connections, whose main-thread reader took the data
        # version the dashboard compares with later.
        self.connections = first_screen.connections if first_screen else \
            Connections(self.db_path)
        # The small file's integrity check runs once the first screen is up; writes wait
        # for it (outcomes_tui.integrity).
        self.integrity = IntegrityGate(self.db_path)
        self._integrity_started = False
        self.sub_title = self.db_path.name
        self.theme = DARK
        self._controls = ControlCharacters()
        self._warmed = False
        self._styles_registered = False
        self.collector = CollectorPolicy()

    def db(self) -> Database:
        """This thread's sqlite-utils connection, for writes and the core's reports (call from
        workers only). Waits for the integrity check of the file and raises its error when
        it failed: every write of the dashboard comes through here (outcomes_tui.integrity)."""
        self.integrity.require()
        return self.connections.get()

    def take_first_screen(self) -> FirstScreen | None:
        """The dashboard's first reads, forked by the command (run_path), once: whoever asks
        next reads for itself."""
        first, self._first_screen = self._first_screen, None
        return first

    def reader(self) -> Reader:
        """This thread's plain read-only connection, for ``outcomes.reports`` (workers only)."""
        return self.connections.reader()

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the one that keeps stored control characters off the
        terminal (``outcomes_tui.safety``)."""
        return [*super().get_line_filters(), self._controls]

    def on_mount(self) -> None:
        self.set_timer(INTEGRITY_START_MAX_S, self._start_integrity_check)
        try:
            keymap = load_keymap()
        except KeymapError as exc:
            self.notify(escape(str(exc)), title="Keymap", severity="warning")
        else:
            if keymap:
                self.set_keymap(keymap)
        self.switch_mode("dashboard")
        # After the first screen has its data (DashboardShown): load what the other screens
        # need in the background, so the first partner or form opened later does not stall the
        # interface. A fixed timer started it at 1 s, in the middle of the alert queue's
        # computation on a big database, and the two shared one core (the GIL). The timer
        # remains as a fallback for a dashboard that never completes (a failed read).
        self.set_timer(WARM_UP_FALLBACK_S, self._warm_up)
        self.set_timer(START_GC_PAUSE_S, self.collector.resume)

    def _start_integrity_check(self) -> None:
        """On the first complete screen (or INTEGRITY_START_MAX_S): started with the screen's
        reads, the check's 13-16 ms of SQLite on the demo clinic took the second core from
        them and from the terminal (the first screen came ~15 ms later). A write asked for
        before then runs the check itself first (IntegrityGate.require)."""
        if not self._integrity_started:
            self._integrity_started = True
            self.run_worker(self._check_integrity, thread=True, group="integrity",
                            exit_on_error=False)

    def _check_integrity(self) -> None:
        error = self.integrity.run()
        if error is not None:
            self.call_from_thread(self._refuse_damaged, error)

    def _refuse_damaged(self, error: Exception) -> None:
        """The file failed its integrity check: its message replaces every screen, and only the
        quit key still acts (check_action); writes already raise (db)."""
        self.push_screen(damaged_screen(error))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.integrity.error is not None and action != "quit":
            return False
        return super().check_action(action, parameters)

    def on_dashboard_shown(self, _: DashboardShown) -> None:
        self._start_integrity_check()
        self.collector.resume()
        self.set_timer(0.2, self._warm_up)

    def _warm_up(self) -> None:
        if self._warmed:
            return
        self._warmed = True
        self.run_worker(import_heavy_modules, thread=True, group="warm-up", exit_on_error=False)
        self.set_timer(0.5, self._register_widget_styles)

    def _start_collector_policy(self) -> None:
        """Once the warm-up is over (its imports and styles belong to the start-up heap that
        is frozen): the garbage-collector policy (CollectorPolicy), and its idle hook."""
        warming = any(w.group == "warm-up" and w.state in (WorkerState.PENDING,
                                                           WorkerState.RUNNING)
                      for w in self.workers)
        if self.collector.on or warming or not self._styles_registered or not self.is_running:
            return
        self.collector.start()
        self.set_interval(GC_CHECK_S, self.collect_if_idle)

    def collect_if_idle(self, now: float | None = None) -> bool:
        """The idle hook: a full collection when the user has pressed nothing for GC_IDLE_S,
        no worker runs and objects reached the oldest generation since the last one. True
        when it collected."""
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in self.workers)
        if not self.collector.due(time.monotonic() if now is None else now, busy):
            return False
        self.collector.collect()
        return True

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.collector.last_input = time.monotonic()
        await super().on_event(event)

    async def _register_widget_styles(self) -> None:
        """Mount, hidden, one of each widget type the other screens use, then remove them.

        Textual adds a widget type's default CSS the first time one is mounted, and then
        restyles every live widget; later, with several screens alive, that restyle made the
        first opening of the import screen stall for ~100 ms. Done now, while only the
        dashboard exists, it costs a few milliseconds once."""
        if not self.screen_stack or not self.is_running:
            return  # the app is closing (a quick quit before the warm-up timer fired)
        from textual.containers import Container
        from textual.widgets import (
            Checkbox,
            Input,
            ProgressBar,
            Select,
            SelectionList,
            TabbedContent,
        )

        holder = Container(
            Input(), Select([("a", "a")], allow_blank=False), Checkbox(), ProgressBar(),
            SelectionList[str](), TabbedContent(),
        )
        holder.display = False
        await self.screen.mount(holder)
        await holder.remove()
        # Each screen's own .tcss is read the first time that screen loads, followed by a
        # reparse of every stylesheet and a restyle of every live widget; read them all now.
        import importlib
        import inspect

        paths = []
        for name in screen_modules():
            module = importlib.import_module(f"outcomes_tui.screens.{name}")
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                css = getattr(cls, "CSS_PATH", None)
                if cls.__module__ != module.__name__ or not isinstance(css, str):
                    continue
                paths.append(str(Path(inspect.getfile(cls)).parent / css))  # as Screen does
        read_stylesheets(self, paths)
        self._styles_registered = True
        self._start_collector_policy()

    def on_unmount(self) -> None:
        self.collector.stop()
        self.connections.close_all()

    def on_worker_state_changed(self, event: Any) -> None:
        """Worker errors become one plain-words notification, never a traceback."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.show_error(event.worker.error)
        if event.worker.group == "warm-up" and event.state not in (WorkerState.PENDING,
                                                                    WorkerState.RUNNING):
            self._start_collector_policy()

    def show_error(self, exc: BaseException) -> None:
        self.notify(escape(plain_error(exc)), title="Could not finish", severity="error",
                    timeout=10)

    # --- leaving: nothing lost on a slip (outcomes_tui.guard) ----------------------------------

    def _leave(self, then: Callable[[], object], question: str) -> None:
        """Run ``then`` after closing the forms of this mode; ask first when one of them holds
        unsaved input (No keeps every form as it was, on screen)."""
        from outcomes_tui.forms.confirm import ConfirmScreen
        from outcomes_tui.guard import LeaveScreen, transient, unsaved

        if isinstance(self.screen, ConfirmScreen):
            return  # a question is open: it is answered first

        def close_and_go() -> None:
            while len(self.screen_stack) > 1 and transient(self.screen):
                self.pop_screen()
            then()

        if not any(unsaved(screen) for screen in self.screen_stack):
            close_and_go()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                close_and_go()

        self.push_screen(LeaveScreen(question), answered)

    def action_go(self, mode: str) -> None:
        def go() -> None:
            if self.current_mode == mode:
                # Already there: back to the mode's base (from a partner, say).
                while len(self.screen_stack) > 1:
                    self.pop_screen()
            else:
                self.switch_mode(mode)

        self._leave(go, "What you typed in the open form is not saved.\n\nDiscard it and leave?")

    def action_survey(self, episode_id: str | None = None) -> None:
        from outcomes_tui.screens.survey_entry import SurveyEntryScreen

        if isinstance(self.screen, SurveyEntryScreen):
            return  # already entering one; a second form would hide the first
        self._leave(lambda: self.push_screen(SurveyEntryScreen(episode_id)),
                    "What you typed in the open form is not saved.\n\n"
                    "Discard it and open the survey?")

    async def action_quit(self) -> None:
        """ctrl+q: leave at once when nothing is unsaved, else ask (No keeps everything)."""
        from outcomes_tui.forms.confirm import ConfirmScreen
        from outcomes_tui.guard import LeaveScreen, unsaved

        if isinstance(self.screen, ConfirmScreen):
            return
        if not any(unsaved(screen) for screen in self.screen_stack):
            self.exit()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.exit()

        self.push_screen(LeaveScreen("What you typed in the open form is not saved.\n\n"
                                     "Discard it and quit outcomes?"), answered)

    def action_help(self) -> None:
        from outcomes_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK


def import_heavy_modules() -> None:
    """Imports (and the instrument catalog) that screens other than the dashboard need."""
    import importlib

    for name in ("outcomes.reports.scorecard", "outcomes.network.alerts",
                 "outcomes.measures.responses", "outcomes.importing.importer",
                 *(f"outcomes_tui.screens.{m}" for m in screen_modules()),
                 *(f"outcomes_tui.forms.{m}" for m in FORM_MODULES)):
        importlib.import_module(name)
    from outcomes.measures import catalog

    catalog.instruments()


def make_app(db_path: Path | str, today: date | None = None,
             first_screen: FirstScreen | None = None) -> OutcomesApp:
    """The app factory shared by the command line and the tests."""
    return OutcomesApp(Path(db_path), today=today, first_screen=first_screen)


def run(db: Database, path: Path) -> None:
    """Open the dashboard on ``path`` (``db`` was opened and migrated by the command line)."""
    db.close()
    make_app(path).run()


def run_path(path: Path, first_screen: FirstScreen | None = None) -> None:
    """Open the dashboard on ``path`` without opening it first (for a command-line fast path
    that has already checked the file; imports neither typer nor sqlite-utils). A file that
    failed its integrity check (shown on screen) ends the command with its error, as the other
    commands do. ``first_screen``: the dashboard's first reads, forked by the command before
    this module was loaded (outcomes.reports.first_screen)."""
    app = make_app(path, first_screen=first_screen)
    app.collector.pause()
    try:
        app.run()
    finally:
        app.collector.resume()  # however the app ended
    if app.integrity.error is not None:
        raise app.integrity.error
