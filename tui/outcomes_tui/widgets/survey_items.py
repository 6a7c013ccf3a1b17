"""The item grid of the survey form: one digit per item, the cursor moves on by itself.

Entry rules (docs/tui.md):
- a digit answers the current item and moves to the next one;
- ``-`` or space marks the item skipped;
- items whose range goes above 9 (NPRS, PSFS, PROMIS pain, NPS): ``1`` waits for a second key:
  ``0`` makes 10, any other digit records 1 and answers the next item with that digit, and
  →/↓/Enter (or leaving the grid) records 1. ``t`` enters 10 at once;
- a key outside the item's range is refused, with the reason shown under the grid;
- Backspace clears the previous answer, ↑/↓ move between items; Enter saves (the form does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from outcomes.measures.instruments import Instrument

SKIPPED = "skipped"


@dataclass
class Cell:
    value: int | None = None
    state: str = "empty"  # empty | answered | skipped


class SurveyItems(Widget, can_focus=True):
    """Answers for one instrument. Posts :class:`SurveyItems.Changed` after every change."""

    DEFAULT_CSS = """
    SurveyItems { height: auto; padding: 0 1; }
    SurveyItems:focus { background-tint: $foreground 4%; }
    """
    COMMAND_GROUP = "survey"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("minus,space", "skip", "Skip item", id="survey.skip",
                tooltip="Mark the current item as not answered"),
        Binding("t", "ten", "Enter 10", id="survey.ten", show=False,
                tooltip="Answer 10 (items that go up to 10)"),
        Binding("backspace", "back", "Clear previous", id="survey.back", show=False,
                tooltip="Go back one item and clear it"),
        Binding("up", "move(-1)", "Previous item", show=False, id="survey.up",
                tooltip="Move to the previous item"),
        Binding("down,right", "confirm_move(1)", "Next item", show=False,
                id="survey.down", tooltip="Move to the next item (confirms a pending 1)"),
    ]

    cursor: reactive[int] = reactive(0)
    refusal: reactive[str] = reactive("")

    class Changed(Message):
        def __init__(self, items: SurveyItems) -> None:
            super().__init__()
            self.items = items

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.instrument: Instrument | None = None
        self.cells: list[Cell] = []
        self.pending_one = False
        self.queued: list[str] = []

    def set_instrument(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.cells = [Cell() for _ in instrument.items]
        self.cursor = 0
        self.pending_one = False
        self.refusal = ""
        self.refresh(layout=True)
        queued, self.queued = self.queued, []
        for key in queued:
            self.type_key(key)
        self.post_message(self.Changed(self))

    # --- state -------------------------------------------------------------------------------

    def answers(self) -> list[int | None]:
        """Answers as the scoring engine wants them (None: skipped or not yet answered)."""
        values = [c.value if c.state == "answered" else None for c in self.cells]
        if self.pending_one:
            values[self.cursor] = 1
        if self.instrument is not None and self.instrument.min_answers is not None:
            # Variable-length instruments (PSFS): trailing unrated items were not presented.
            while len(values) > self.instrument.min_answers and values[-1] is None:
                values.pop()
        return values

    def complete(self) -> bool:
        return all(c.state != "empty" for c in self.cells)

    def _wide(self, index: int) -> bool:
        return self.instrument is not None and self.instrument.items[index].max >= 10

    def _set(self, index: int, value: int | None) -> None:
        self.cells[index] = Cell(value, "answered" if value is not None else SKIPPED)
        self.refusal = ""
        self.pending_one = False
        if index == self.cursor and self.cursor < len(self.cells) - 1:
            self.cursor += 1
        self.refresh()
        self.post_message(self.Changed(self))

    def confirm_pending(self) -> None:
        if self.pending_one:
            self._set(self.cursor, 1)

    # --- keys --------------------------------------------------------------------------------

    def type_key(self, character: str) -> bool:
        """Handle one typed character; return True when it was used."""
        if self.instrument is None:
            self.queued.append(character)
            return True
        if not character.isdigit() or not character.isascii():
            return False
        item = self.instrument.items[self.cursor]
        digit = int(character)
        if self.pending_one:
            if digit == 0:
                self._set(self.cursor, 10)
                return True
            self._set(self.cursor, 1)
            if self.cursor >= len(self.cells) or self.instrument is None:
                return True
            item = self.instrument.items[self.cursor]
        if self._wide(self.cursor) and digit == 1 and item.min <= 1 <= item.max:
            self.pending_one = True
            self.refusal = ""
            self.refresh()
            self.post_message(self.Changed(self))
            return True
        if not item.min <= digit <= item.max:
            self.refusal = (f"{digit} is not allowed for item {self.cursor + 1} ({item.label}): "
                            f"answers go from {item.min} to {item.max}.")
            self.app.bell()
            self.post_message(self.Changed(self))
            return True
        self._set(self.cursor, digit)
        return True

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit() and self.type_key(event.character):
            event.stop()
            event.prevent_default()
        elif event.key == "enter":
            self.confirm_pending()  # the form's Enter binding then saves
        elif self.instrument is None and event.character and event.is_printable:
            self.queued.append(event.character)
            event.stop()

    def on_blur(self) -> None:
        self.confirm_pending()

    def action_skip(self) -> None:
        if self.instrument is None:
            self.queued.append("-")
            return
        self._set(self.cursor, None)

    def action_ten(self) -> None:
        if self.instrument is None:
            return
        item = self.instrument.items[self.cursor]
        if item.max < 10:
            self.refusal = (f"10 is not allowed for item {self.cursor + 1} ({item.label}): "
                            f"answers go from {item.min} to {item.max}.")
            self.post_message(self.Changed(self))
            return
        self._set(self.cursor, 10)

    def action_back(self) -> None:
        if self.pending_one:
            self.pending_one = False
        elif self.cursor > 0 and (self.cursor == len(self.cells) - 1
                                  and self.cells[self.cursor].state != "empty"):
            pass  # on the last, answered item: clear it in place
        elif self.cursor > 0:
            self.cursor -= 1
        if self.cells:
            self.cells[self.cursor] = Cell()
        self.refusal = ""
        self.refresh()
        self.post_message(self.Changed(self))

    def action_move(self, step: int) -> None:
        if self.cells:
            self.pending_one = False
            self.cursor = max(0, min(len(self.cells) - 1, self.cursor + step))
            self.refresh()

    def action_confirm_move(self, step: int) -> None:
        if self.pending_one:
            self.confirm_pending()
            return
        self.action_move(step)

    # --- drawing -----------------------------------------------------------------------------

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return max(1, len(self.cells))

    def render(self) -> Text:
        if self.instrument is None:
            return Text("Choose an episode and an instrument…", style="dim")
        colours = self.app.theme_variables
        accent = colours.get("accent", "")
        out = Text()
        width = max(len(i.label) for i in self.instrument.items)
        for index, (item, cell) in enumerate(zip(self.instrument.items, self.cells,
                                                 strict=True)):
            here = index == self.cursor
            mark = "▶ " if here else "  "
            if here and self.pending_one:
                answer = "1_"
            elif cell.state == "answered":
                answer = str(cell.value)
            elif cell.state == SKIPPED:
                answer = "–"
            else:
                answer = "·"
            line = Text.assemble(
                (mark, f"bold {accent}"), f"{index + 1:>2}. ",
                (item.label.ljust(width), "bold" if here else ""),
                (f"  {item.min}–{item.max}  ", "dim"),
                (f"[{answer:^3}]", f"bold reverse {accent}" if here else "bold"),
                ("  skipped" if cell.state == SKIPPED else "", "dim"),
            )
            out.append_text(line)
            if index < len(self.cells) - 1:
                out.append("\n")
        return out
