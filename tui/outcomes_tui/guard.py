"""Nothing lost on a slip: which screens hold unsaved input, and the question asked before a key
leaves them.

A screen that holds input the user typed says so with ``has_unsaved_input()`` (the survey form);
a modal form says so with ``FormScreen.dirty``. The app asks :func:`unsaved` before a mode key,
the survey key or ctrl+q takes the user away, and closes forms rather than leaving them hidden
under another screen."""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen

from outcomes_tui.forms.confirm import ConfirmScreen


@runtime_checkable
class HoldsInput(Protocol):
    def has_unsaved_input(self) -> bool:
        """True when leaving now would lose something the user typed."""
        ...


def unsaved(screen: Screen[object]) -> bool:
    """True when ``screen`` holds input that has not been saved."""
    if isinstance(screen, HoldsInput):
        return screen.has_unsaved_input()
    from outcomes_tui.forms.base import FormScreen

    return isinstance(screen, FormScreen) and screen.dirty


def transient(screen: Screen[object]) -> bool:
    """Screens that close when the user goes elsewhere (forms, questions, the help, the survey),
    rather than stay hidden under another mode's screens."""
    return isinstance(screen, ModalScreen | HoldsInput)


class LeaveScreen(ConfirmScreen):
    """"Discard and leave?" Only ``y`` leaves: Enter, Escape and ``n`` keep the input, because
    Enter is the survey's save key and a slip followed by Enter must not throw the answers away."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Discard", id="leave.discard", priority=True,
                tooltip="Discard the unsaved input and leave"),
        Binding("enter,escape,n", "answer(False)", "Keep", id="leave.keep", priority=True,
                tooltip="Stay, with everything kept as it was"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(question, yes="discard and leave", no="keep editing")

    def on_mount(self) -> None:
        from textual.widgets import Static

        self.query_one("#confirm-keys", Static).update(
            "y: discard and leave · Enter, Escape or n: keep editing")
