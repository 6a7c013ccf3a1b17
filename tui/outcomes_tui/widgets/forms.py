"""Small modal forms that write one record through the core: touchpoint, outbound referral,
partner edit, communication. Each saves in a worker, shows errors in plain words inside the
form, and dismisses with True once saved."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from outcomes import vocab
from outcomes.dates import parse_date, parse_optional_date
from outcomes.errors import OutcomesError
from outcomes_tui.messages import RecordSaved, SpendChecked


def field(label: str, widget: Any) -> ComposeResult:
    yield Label(label, classes="field-label")
    yield widget


class FormScreen(ModalScreen[bool]):
    """Base of the modal forms: ctrl+s saves, escape cancels, errors show in #form-error."""

    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > VerticalScroll {
        width: 72; max-width: 95%; height: auto; max-height: 95%;
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
                tooltip="Close the form without saving"),
    ]
    FORM_TITLE = "Form"

    def compose(self) -> ComposeResult:
        # Scrolls when the form is taller than the terminal (e.g. 100x30): the focused field
        # and the keys line stay reachable.
        with VerticalScroll() as box:
            box.border_title = self.FORM_TITLE
            yield from self.fields()
            yield Static("", id="form-note", markup=False)
            yield Static("", id="form-error", markup=False)
            yield Static("ctrl+s save · esc cancel · tab next field", id="form-keys")

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        self.query_one("#form-error", Static).update("")
        try:
            job = self.prepare()
        except OutcomesError as exc:
            self.query_one("#form-error", Static).update(str(exc))
            return
        self.save(job)

    def prepare(self) -> Any:
        """Validate on the event loop (cheap, no DB); return what save() needs."""
        raise NotImplementedError

    def write(self, db: Any, job: Any) -> str:
        """Write in the worker thread; return the success message."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def save(self, job: Any) -> None:
        app: Any = self.app
        try:
            text = self.write(app.db(), job)
        except OutcomesError as exc:
            self.app.call_from_thread(self.query_one("#form-error", Static).update, str(exc))
            return
        self.post_message(RecordSaved(text))

    def on_record_saved(self, message: RecordSaved) -> None:
        message.stop()
        self.app.notify(escape(message.text), title="Saved")
        self.dismiss(True)

    @property
    def today(self) -> date:
        app: Any = self.app
        return app.today


class TouchpointForm(FormScreen):
    FORM_TITLE = "Log touchpoint"
    COMMAND_GROUP = "touchpoint"

    def __init__(self, partner_id: int, partner: str) -> None:
        super().__init__()
        self.partner_id = partner_id
        self.partner = partner

    def fields(self) -> ComposeResult:
        yield Label(self.partner, markup=False)
        yield from field("Date", Input(self.today.isoformat(), id="tp-date"))
        yield from field("Method", Select([(m, m) for m in vocab.TOUCH_METHODS.values],
                                          value="phone", allow_blank=False, id="tp-method"))
        yield from field("Who (their side)", Input(id="tp-who"))
        yield from field("Summary", Input(id="tp-summary"))
        yield from field("Gift or meal amount ($, optional)", Input(id="tp-amount",
                                                                   type="number"))
        yield from field("Next follow-up (optional)", Input(id="tp-next"))

    def on_mount(self) -> None:
        self.query_one("#tp-summary", Input).focus()

    @on(Input.Changed, "#tp-amount")
    def amount_changed(self, event: Input.Changed) -> None:
        try:
            amount = float(event.value) if event.value.strip() else 0.0
        except ValueError:
            return
        if amount > 0:
            self.check_spend(amount)
        else:
            self.query_one("#form-note", Static).update("")

    @work(thread=True, exclusive=True, group="spend-check", exit_on_error=False)
    def check_spend(self, amount: float) -> None:
        try:
            from outcomes.network.spend import check_spend
        except ImportError:
            return
        app: Any = self.app
        check = check_spend(app.db(), self.partner_id, amount, self.today)
        self.post_message(SpendChecked(check.message(self.partner), check.status))

    def on_spend_checked(self, message: SpendChecked) -> None:
        note = self.query_one("#form-note", Static)
        note.update("" if message.status == "ok" else f"Warning: {message.text}")

    def prepare(self) -> Any:
        from outcomes.models import Touchpoint, validate

        amount = self.value("#tp-amount")
        when = parse_date(self.value("#tp-date"), field="date", reference=self.today)
        return validate(Touchpoint, {
            "partner_id": self.partner_id, "date": when,
            "method": str(self.query_one("#tp-method", Select).value),
            "who": self.value("#tp-who") or None, "summary": self.value("#tp-summary"),
            "amount": float(amount) if amount else None,
            "next_follow_up": parse_optional_date(self.value("#tp-next") or None,
                                                  field="next follow-up", allow_future=True),
        }, today=self.today)

    def write(self, db: Any, job: Any) -> str:
        from outcomes.network.touchpoints import add_touchpoint

        added = add_touchpoint(db, job)
        what = "Touchpoint logged" if added else "That touchpoint was already on file"
        return f"{what} for {self.partner}."


class OutboundForm(FormScreen):
    FORM_TITLE = "Log outbound referral"
    COMMAND_GROUP = "outbound"

    def __init__(self, partner_id: int, partner: str) -> None:
        super().__init__()
        self.partner_id = partner_id
        self.partner = partner

    def fields(self) -> ComposeResult:
        yield Label(f"Referring a patient to {self.partner}", markup=False)
        yield from field("Date", Input(self.today.isoformat(), id="out-date"))
        yield from field("Episode id (optional)", Input(id="out-episode"))
        yield from field("Clinical rationale (required)", Input(id="out-reason"))

    def on_mount(self) -> None:
        self.query_one("#out-episode", Input).focus()

    def prepare(self) -> Any:
        from outcomes.errors import ValidationError
        from outcomes.models import OutboundReferral, validate

        if not self.value("#out-reason"):
            raise ValidationError("The clinical rationale is required.")
        return validate(OutboundReferral, {
            "partner_id": self.partner_id,
            "date": parse_date(self.value("#out-date"), reference=self.today),
            "episode_id": self.value("#out-episode") or None,
            "reason": self.value("#out-reason"),
        }, today=self.today)

    def write(self, db: Any, job: Any) -> str:
        from outcomes.network.outbound import add_outbound

        added = add_outbound(db, job)
        return (f"Outbound referral to {self.partner} logged." if added
                else "That outbound referral was already on file.")


class CommunicationForm(FormScreen):
    FORM_TITLE = "Log update sent"
    COMMAND_GROUP = "update"

    def __init__(self, partner_id: int, partner: str, episode_id: str | None = None) -> None:
        super().__init__()
        self.partner_id = partner_id
        self.partner = partner
        self.episode_id = episode_id

    def fields(self) -> ComposeResult:
        yield Label(f"Sent to {self.partner}", markup=False)
        yield from field("Date", Input(self.today.isoformat(), id="comm-date"))
        yield from field("Episode id", Input(self.episode_id or "", id="comm-episode"))
        yield from field("What", Select([(k, k) for k in vocab.COMMUNICATION_KINDS.values],
                                        value="discharge_summary" if self.episode_id
                                        else "progress_update",
                                        allow_blank=False, id="comm-kind"))
        yield from field("Channel", Select([(c, c) for c in vocab.CHANNELS.values],
                                           value="fax", allow_blank=False, id="comm-channel"))
        yield from field("Note (optional)", Input(id="comm-note"))

    def prepare(self) -> Any:
        from outcomes.models import Communication, validate

        return validate(Communication, {
            "partner_id": self.partner_id,
            "date": parse_date(self.value("#comm-date"), reference=self.today),
            "episode_id": self.value("#comm-episode") or None,
            "kind": str(self.query_one("#comm-kind", Select).value),
            "channel": str(self.query_one("#comm-channel", Select).value),
            "note": self.value("#comm-note") or None,
        }, today=self.today)

    def write(self, db: Any, job: Any) -> str:
        from outcomes.network.communications import log_communication

        log_communication(db, job)
        return f"Recorded the {job.kind.replace('_', ' ')} sent to {self.partner}."


EDITABLE = ("phone", "fax", "email", "address", "city", "state", "zip", "notes")


class PartnerEditForm(FormScreen):
    FORM_TITLE = "Edit partner"
    COMMAND_GROUP = "partner"

    def __init__(self, partner: dict[str, Any]) -> None:
        super().__init__()
        self.partner = partner

    def fields(self) -> ComposeResult:
        yield Label(self.partner["name"], markup=False)
        yield from field("Stage", Select([(s, s) for s in vocab.STAGES.values],
                                         value=self.partner["stage"], allow_blank=False,
                                         id="edit-stage"))
        for name in EDITABLE:
            yield from field(name.capitalize(), Input(self.partner.get(name) or "",
                                                      id=f"edit-{name}"))

    def prepare(self) -> Any:
        changes: dict[str, Any] = {name: self.value(f"#edit-{name}") or None for name in EDITABLE}
        stage = str(self.query_one("#edit-stage", Select).value)
        if stage != self.partner["stage"]:
            changes["stage"] = stage
        return changes

    def write(self, db: Any, job: Any) -> str:
        from outcomes.network.stages import update_partner

        changed = update_partner(db, int(self.partner["id"]), job)
        if not changed:
            return "Nothing changed."
        return f"Updated {', '.join(sorted(changed))} of {self.partner['name']}."


def default_letter_dir() -> Path:
    """The user's documents folder when there is one, else the current folder."""
    documents = Path.home() / "Documents"
    return documents if documents.is_dir() else Path.cwd()


class LetterForm(FormScreen):
    """Make a progress update or discharge summary for the episode's referrer
    (``outcomes.letters.make_letter``): the user confirms kind, format and path; the letter is
    written 0600 and logged as a communication, which clears the episode's 'update owed'."""

    FORM_TITLE = "Make letter to the referrer"
    COMMAND_GROUP = "letter"

    def __init__(self, episode_id: str, partner: str, discharged: bool,
                 folder: Path | None = None) -> None:
        super().__init__()
        self.episode_id = episode_id
        self.partner = partner
        self.kind = "discharge" if discharged else "progress"
        self.folder = folder

    def fields(self) -> ComposeResult:
        yield Label(f"Episode {self.episode_id} · to {self.partner}", markup=False)
        yield from field("Letter", Select([("Progress update", "progress"),
                                           ("Discharge summary", "discharge")],
                                          value=self.kind, allow_blank=False, id="letter-kind"))
        yield from field("Format", Select([("PDF", ".pdf"), ("Markdown", ".md")], value=".pdf",
                                          allow_blank=False, id="letter-format"))
        yield from field("Save as", Input(str(self._default_path(self.kind, ".pdf")),
                                          id="letter-path"))

    def _default_path(self, kind: str, suffix: str) -> Path:
        folder = self.folder or default_letter_dir()
        return folder / f"letter-{self.episode_id}-{kind}-{self.today.isoformat()}{suffix}"

    def on_mount(self) -> None:
        self.query_one("#letter-path", Input).focus()

    @on(Select.Changed, "#letter-format")
    @on(Select.Changed, "#letter-kind")
    def choice_changed(self) -> None:
        kind = str(self.query_one("#letter-kind", Select).value)
        suffix = str(self.query_one("#letter-format", Select).value)
        box = self.query_one("#letter-path", Input)
        path = Path(box.value.strip() or ".")
        if path.name.startswith(f"letter-{self.episode_id}-"):
            # Still our suggested name: follow the choices, keep the folder the user typed.
            box.value = str(path.parent / self._default_path(kind, suffix).name)
        else:
            box.value = str(path.with_suffix(suffix))

    def prepare(self) -> Any:
        from outcomes.errors import ValidationError

        text = self.value("#letter-path")
        if not text:
            raise ValidationError("Type the path of the letter file.")
        path = Path(text).expanduser()
        if path.suffix.lower() not in (".pdf", ".md", ".markdown"):
            raise ValidationError(f"{path.name}: end the file name in .pdf or .md.")
        if path.is_dir():
            raise ValidationError(f"{path} is a folder; add a file name.")
        return str(self.query_one("#letter-kind", Select).value), path

    def write(self, db: Any, job: Any) -> str:
        from outcomes.documents.letters import make_letter

        kind, path = job
        letter, _ = make_letter(db, self.episode_id, kind, path, today=self.today)
        return f"{letter.title} for episode {self.episode_id} written to {path}."
