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
