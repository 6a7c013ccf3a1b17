"""Questions in a modal: yes/no (Enter or y, Escape or n), and replace, amend or keep a stored
response (y, a, Escape or n)."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

T = TypeVar("T")


class QuestionScreen(ModalScreen[T]):
    """A question in a modal box, answered by the keys of the subclass's bindings, which the
    line under the question names."""

    DEFAULT_CSS = """
    QuestionScreen { align: center middle; }
    QuestionScreen > Vertical {
        width: 76; max-width: 95%; height: auto; border: thick $warning;
        background: $surface; padding: 1 2;
    }
    QuestionScreen #confirm-keys { color: $text-muted; margin-top: 1; }
    """
    COMMAND_GROUP = "confirm"
    TITLE_TEXT = "Confirm"

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def keys_text(self) -> str:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.TITLE_TEXT
            yield Static(self.question, id="confirm-question", markup=False)
            yield Static(self.keys_text(), id="confirm-keys", markup=False)

    def action_answer(self, answer: T) -> None:
        self.dismiss(answer)


class ConfirmScreen(QuestionScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "answer(True)", "Yes", id="confirm.yes", priority=True,
                tooltip="Answer yes"),
        Binding("escape,n", "answer(False)", "No", id="confirm.no", priority=True,
                tooltip="Answer no (nothing happens)"),
    ]

    def __init__(self, question: str, yes: str = "yes", no: str = "no") -> None:
        super().__init__(question)
        self.yes = yes
        self.no = no

    def keys_text(self) -> str:
        return f"Enter or y: {self.yes} · Escape or n: {self.no}"


class ReplaceOrAmendScreen(QuestionScreen[str]):
    """A timepoint already has a response: replace it (a slip caught at once), amend it (a
    correction on the record, with its reason) or keep it. Answers "replace", "amend" or
    "keep"; keeping leaves the form and its answers as they are."""

    TITLE_TEXT = "A response is already stored"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('replace')", "Replace", id="response.replace", priority=True,
                tooltip="Replace the stored response (the old values stay in the audit log)"),
        Binding("a", "answer('amend')", "Amend", id="response.amend", priority=True,
                tooltip="Amend the stored response, with the reason (shown on the response)"),
        Binding("escape,n", "answer('keep')", "Keep", id="response.keep", priority=True,
                tooltip="Keep the stored response; the form keeps your answers"),
    ]

    def keys_text(self) -> str:
        return ("y: replace it (a slip caught at once) · a: amend it, with the reason"
                " · Escape or n: keep the stored one")
