"""The base of the modal forms: ctrl+s saves through the core in a worker, Escape cancels (and
asks first when something was typed), every refusal shows inside the form with the input kept."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from outcomes.errors import OutcomesError
from outcomes_tui.context import app_of
from outcomes_tui.feedback import plain_error
from outcomes_tui.forms.confirm import ConfirmScreen
from outcomes_tui.guard import LeaveScreen
from outcomes_tui.messages import RecordSaved, SaveFailed


def field(label: str, widget: Any) -> ComposeResult:
    yield Label(label, classes="field-label")
    yield widget


class FormScreen(ModalScreen[bool]):
    """Subclasses give ``fields()``, ``prepare()`` (cheap checks on the event loop) and
    ``write(db, job, confirmed)`` (the core call, in a worker, returning the success text)."""

    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > VerticalScroll {
        width: 76; max-width: 95%; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    FormScreen .field-label { color: $text-muted; }
    FormScreen #form-error { color: $text-error; height: auto; }
    FormScreen #form-note { color: $text-warning; height: auto; }
    FormScreen #form-keys { color: $text-muted; margin-top: 1; }
    """
    COMMAND_GROUP = "form"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="form.save", priority=True,
                tooltip="Validate and save this form"),
        Binding("escape", "cancel", "Cancel", id="form.cancel",
                tooltip="Close the form (asks first when something was typed)"),
    ]
    FORM_TITLE = "Form"
    CONFIRM_QUESTION = "Save anyway?"

    def __init__(self) -> None:
        super().__init__()
        self.saving = False
        self._initial: dict[str, Any] = {}
        self.job: Any = None
        """What the last save sent to the core (``prepare()``'s result): the screen behind
        reads it after a save, e.g. to select the record just made."""

    def compose(self) -> ComposeResult:
        # Scrolls when the form is taller than the terminal (e.g. 100x30).
        with VerticalScroll() as box:
            box.border_title = self.FORM_TITLE
            for widget in self.fields():
                # What the form opened with, read here rather than at mount: under load the
                # first keys can be handled before on_mount runs, and would count as "initial".
                if isinstance(widget, (Input, Select)) and widget.id:
                    self._initial[widget.id] = widget.value
                yield widget
            yield Static("", id="form-note", markup=False)
            yield Static("", id="form-error", markup=False)
            yield Static("ctrl+s save · esc cancel · tab next field", id="form-keys")

    AUTO_FOCUS = "Input, Select"
    """Where the cursor starts (subclasses name the field filled in first). Textual focuses it
    when the form opens and only when nothing has the focus yet, so it never pulls the cursor
    back from a field the user has already tabbed to (a deferred ``focus()`` call could)."""

    def on_mount(self) -> None:
        """Subclasses start their loaders here (and call this first)."""
        # A Select takes the value it was built with only once mounted.
        for widget in self.query(Select):
            if widget.id and self._initial.get(widget.id) is Select.NULL:
                self._initial[widget.id] = widget.value

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def _values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for widget in self.query("Input, Select"):
            if widget.id:
                values[widget.id] = getattr(widget, "value", None)
        return values

    @property
    def dirty(self) -> bool:
        """True when the user changed anything since the form opened."""
        return self._values() != self._initial

    def value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def choice(self, selector: str) -> str:
        return str(self.query_one(selector, Select).value)

    def show_error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(text)

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(False)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(False)

        # The question every other way out asks: only y discards (Enter, a save key
        # elsewhere, keeps what was typed).
        self.app.push_screen(LeaveScreen("Discard what you typed in this form?"), answered)

    def action_save(self, confirmed: bool = False) -> None:
        if self.saving:
            return
        self.show_error("")
        try:
            job = self.prepare()
        except OutcomesError as exc:
            self.show_error(str(exc))
            return
        self.job = job
        self.saving = True
        self.show_error("Saving…")
        self.save(job, confirmed)

    def prepare(self) -> Any:
        """Collect the input on the event loop; return what ``write()`` needs."""
        raise NotImplementedError

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        """Write through the core in the worker thread; return what to say."""
        raise NotImplementedError

    def needs_confirmation(self, exc: OutcomesError) -> bool:
        """True when ``exc`` is a refusal the user may override by confirming."""
        return False

    @property
    def today(self) -> date:
        return app_of(self).today

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def save(self, job: Any, confirmed: bool) -> None:
        try:
            saved = self.write(app_of(self).db(), job, confirmed)
        except OutcomesError as exc:
            self.post_message(SaveFailed(plain_error(exc),
                                         "yes" if self.needs_confirmation(exc) else ""))
            return
        except Exception as exc:  # a locked or read-only file: say so, keep the input
            self.post_message(SaveFailed(plain_error(exc)))
            return
        self.post_message(saved)

    def on_save_failed(self, message: SaveFailed) -> None:
        message.stop()
        self.saving = False
        self.show_error(message.text)
        if message.needs_confirmation:
            def answered(yes: bool | None) -> None:
                if yes:
                    self.action_save(confirmed=True)

            self.app.push_screen(ConfirmScreen(f"{message.text}\n\n{self.CONFIRM_QUESTION}"),
                                 answered)

    def on_record_saved(self, message: RecordSaved) -> None:
        message.stop()
        self.saving = False
        self.app.notify(escape(message.text), title="Saved")
        if message.warning:
            self.app.notify(escape(message.warning), title="Note", severity="warning",
                            timeout=12)
        self.dismiss(True)
