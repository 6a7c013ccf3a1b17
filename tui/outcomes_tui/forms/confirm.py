"""A yes/no question in a modal: Enter or y answers yes, Escape or n answers no."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 70; max-width: 95%; height: auto; border: thick $warning;
        background: $surface; padding: 1 2;
    }
    ConfirmScreen #confirm-keys { color: $text-muted; margin-top: 1; }
    """
    COMMAND_GROUP = "confirm"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "answer(True)", "Yes", id="confirm.yes", priority=True,
                tooltip="Answer yes"),
        Binding("escape,n", "answer(False)", "No", id="confirm.no", priority=True,
                tooltip="Answer no (nothing happens)"),
    ]

    def __init__(self, question: str, yes: str = "yes", no: str = "no") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Confirm"
            yield Static(self.question, id="confirm-question", markup=False)
            yield Static(f"Enter or y: {self.yes} · Escape or n: {self.no}", id="confirm-keys",
                         markup=False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ReplaceOrAmendScreen(ModalScreen[str]):
    """A timepoint already has a response: replace it (a slip caught at once), amend it (a
    correction on the record, with its reason) or keep it. Answers "replace", "amend" or
    "keep"; keeping leaves the form and its answers as they are."""

    DEFAULT_CSS = """
    ReplaceOrAmendScreen { align: center middle; }
    ReplaceOrAmendScreen > Vertical {
        width: 76; max-width: 95%; height: auto; border: thick $warning;
        background: $surface; padding: 1 2;
    }
    ReplaceOrAmendScreen #choice-keys { color: $text-muted; margin-top: 1; }
    """
    COMMAND_GROUP = "confirm"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('replace')", "Replace", id="response.replace", priority=True,
                tooltip="Replace the stored response (the old values stay in the audit log)"),
        Binding("a", "answer('amend')", "Amend", id="response.amend", priority=True,
                tooltip="Amend the stored response, with the reason (shown on the response)"),
        Binding("escape,n", "answer('keep')", "Keep", id="response.keep", priority=True,
                tooltip="Keep the stored response; the form keeps your answers"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "A response is already stored"
            yield Static(self.question, id="choice-question", markup=False)
            yield Static("y: replace it (a slip caught at once) · a: amend it, with the reason"
                         " · Escape or n: keep the stored one", id="choice-keys", markup=False)

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)
