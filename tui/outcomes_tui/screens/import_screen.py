"""Import a CSV: choose a file and a kind, see a preview and every row error before anything
is written, then import all or nothing with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import (
    Checkbox,
    DataTable,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)
from textual.worker import Worker, WorkerState

from outcomes.errors import OutcomesError
from outcomes.importing.kinds import KINDS
from outcomes.text import one_line
from outcomes_tui.context import app_of
from outcomes_tui.messages import ImportFinished, ImportPreviewed, ImportProgressed
from outcomes_tui.widgets.footer import KeysFooter

PREVIEW_ROWS = 20


class ImportScreen(Screen[None]):
    CSS_PATH = "import_screen.tcss"
    COMMAND_GROUP = "import"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+k", "preview", "Check file", id="import.preview",
                tooltip="Read and validate the file without writing anything"),
        Binding("ctrl+g", "run_import", "Import", id="import.run",
                tooltip="Import the checked file, all or nothing"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.checked: tuple[str, str, bool] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="choose", classes="panel") as box:
            box.border_title = "Import a CSV file"
            with Horizontal(id="row"):
                with Vertical(id="path-box"):
                    yield Label("File", classes="muted")
                    yield Input(placeholder="path/to/file.csv", id="path")
                with Vertical(id="kind-box"):
                    yield Label("Kind of records", classes="muted")
                    yield Select([(k, k) for k in KINDS], value=next(iter(KINDS)),
                                 allow_blank=False, id="kind")
                yield Checkbox("skip invalid rows", id="skip")
            yield Static("Enter a path and press Enter (or ctrl+k) to check it. Nothing is "
                         "written until you press ctrl+g.", id="status", markup=False)
            yield ProgressBar(id="progress", show_eta=False)
        yield DataTable(id="preview", cursor_type="row", zebra_stripes=True, classes="panel")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#preview", DataTable).border_title = "Preview"
        self.query_one(ProgressBar).display = False  # shown while an import runs
        self.query_one("#path", Input).focus()

    def _choice(self) -> tuple[str, str, bool]:
        path = self.query_one("#path", Input).value.strip()
        kind = str(self.query_one("#kind", Select).value)
        return path, kind, self.query_one("#skip", Checkbox).value

    @on(Input.Submitted, "#path")
    def path_submitted(self) -> None:
        self.action_preview()

    @on(Input.Changed, "#path")
    @on(Select.Changed, "#kind")
    @on(Checkbox.Changed, "#skip")
    def choice_changed(self) -> None:
        self.checked = None

    def action_preview(self) -> None:
        path, kind, skip = self._choice()
        if not path:
            self._status("Type the path of a CSV file first.", "error")
            return
        self._status("Checking…", "")
        self.preview(path, kind, skip)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def preview(self, path: str, kind: str, skip: bool) -> None:
        from outcomes.importing.csvfile import read_table
        from outcomes.importing.importer import ImportFailed, run_import

        app = app_of(self)
        full = Path(path).expanduser()
        table = read_table(full)
        rows: list[list[str]] = []
        for _, cells in table.rows():
            rows.append(cells)
            if len(rows) >= PREVIEW_ROWS:
                break
        try:
            report = run_import(app.db(), kind, full, dry_run=True, skip_invalid=skip,
                                today=app.today)
        except ImportFailed as exc:
            report = exc.report
        self.post_message(ImportPreviewed(report, list(table.header), rows))

    def on_import_previewed(self, message: ImportPreviewed) -> None:
        report = message.report
        table = self.query_one("#preview", DataTable)
        table.clear(columns=True)
        if report.errors:
            table.add_columns("Line", "Column", "Problem")
            for e in report.errors:
                table.add_row(Text(str(e.line)), Text(e.column or ""), Text(e.message))
            table.border_title = f"{len(report.errors)} row errors (nothing written)"
            _, _, skip = self._choice()
            if skip:
                self.checked = self._choice()
                self._status(report.summary() + " Press ctrl+g to import the valid rows.",
                             "warning")
            else:
                self.checked = None
                self._status(report.summary() + " Fix the file, or tick 'skip invalid rows'.",
                             "error")
            return
        table.add_columns(*map(Text, message.header))  # the file's words, never markup
        for cells in message.rows:
            table.add_row(*[Text(c) for c in cells])
        table.border_title = f"Preview: first {len(message.rows)} of {report.rows} rows"
        self.checked = self._choice()
        self._status(report.summary() + " Press ctrl+g to import.", "success")

    def action_run_import(self) -> None:
        if self.checked is None or self.checked != self._choice():
            self._status("Check the file first (Enter or ctrl+k): the preview shows what "
                         "would be written.", "error")
            return
        path, kind, skip = self.checked
        self._status("Importing…", "")
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=100, progress=0)
        self.run_import(path, kind, skip)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def run_import(self, path: str, kind: str, skip: bool) -> None:
        from outcomes.importing.importer import run_import

        app = app_of(self)

        def progress(done: int, total: int) -> None:
            self.post_message(ImportProgressed(done, total))

        try:
            report = run_import(app.db(), kind, Path(path).expanduser(), skip_invalid=skip,
                                progress=progress, today=app.today)
        except OutcomesError as exc:
            self.app.call_from_thread(self._status, str(exc), "error")
            return
        self.post_message(ImportFinished(report))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every failure of a check or an import ends in a visible error: a worker that raises
        ends silently (``exit_on_error=False``) and would leave "Checking…" on screen forever
        (a file with a NUL byte, a folder, an unreadable file, a bug)."""
        if event.state != WorkerState.ERROR or event.worker.group not in ("import", "write"):
            return
        self.checked = None
        self.query_one(ProgressBar).display = False
        self._status(failure_message(event.worker.error, event.worker.group == "import"),
                     "error")

    def on_import_progressed(self, message: ImportProgressed) -> None:
        self.query_one(ProgressBar).update(total=message.total, progress=message.done)

    def on_import_finished(self, message: ImportFinished) -> None:
        self.checked = None
        self._status(message.report.summary(), "success")
        self.app.notify(escape(message.report.summary()), title="Import")

    def _status(self, text: str, kind: str) -> None:
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_classes(f"{kind}-text" if kind else "")


def failure_message(error: BaseException | None, checking: bool) -> str:
    """One line for a failed check or import: the core's message as it is (it names the file
    and line), anything else with its kind, and what to do next."""
    what = "checked" if checking else "imported"
    if isinstance(error, OutcomesError):
        text = str(error)
    elif isinstance(error, OSError):
        text = f"The file could not be read: {error.strerror or error}" + (
            f" ({error.filename})" if error.filename else "")
    else:
        text = f"The file could not be {what} ({type(error).__name__}: {error})"
    return one_line(f"{text} Nothing was written; fix the file or the path and press Enter "
                    "to check again.")
