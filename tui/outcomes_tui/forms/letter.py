"""Make a progress update or discharge summary for the episode's referrer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from outcomes.paths import documents_dir
from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved


class LetterForm(FormScreen):
    """Make a progress update or discharge summary for the episode's referrer
    (``outcomes.letters.make_letter``): the user confirms kind, format and path; the letter is
    written 0600 and logged as a communication, which clears the episode's 'update owed'."""

    FORM_TITLE = "Make letter to the referrer"

    AUTO_FOCUS = "#letter-path"
    COMMAND_GROUP = "letter"

    def __init__(self, episode_id: str, partner: str, discharged: bool,
                 folder: Path | None = None, kind: str | None = None) -> None:
        super().__init__()
        self.episode_id = episode_id
        self.partner = partner
        self.kind = kind or ("discharge" if discharged else "progress")
        self.folder = folder

    def fields(self) -> ComposeResult:
        yield Label(f"Episode {self.episode_id} · to {self.partner}", markup=False)
        yield from field("Letter", Select([("Evaluation summary and plan of care", "evaluation"),
                                           ("Progress note", "progress"),
                                           ("Discharge summary", "discharge")],
                                          value=self.kind, allow_blank=False, id="letter-kind"))
        yield from field("Format", Select([("PDF (fax)", ".pdf"), ("Markdown", ".md"),
                                           ("Plain text (portal)", ".txt")], value=".pdf",
                                          allow_blank=False, id="letter-format"))
        yield from field("Save as", Input(str(self._default_path(self.kind, ".pdf")),
                                          id="letter-path"))

    def _default_path(self, kind: str, suffix: str) -> Path:
        folder = self.folder or documents_dir()
        return folder / f"letter-{self.episode_id}-{kind}-{self.today.isoformat()}{suffix}"


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
        return self.choice("#letter-kind"), Path(text).expanduser()

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.documents.letters import make_letter

        kind, path = job
        letter, _ = make_letter(db, self.episode_id, kind, path, today=self.today,
                                create_folder=True)
        return RecordSaved(f"{letter.title} for episode {self.episode_id} written to {path}. "
                           "Once it has gone out, mark it as sent on the Packets screen (k).")
