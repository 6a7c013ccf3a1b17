"""Help: every key of the screen underneath, with what it does and its id (for keymap.toml)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    COMMAND_GROUP = "help"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark,q", "close", "Close", id="help.close",
                tooltip="Close the help"),
    ]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box") as box:
            box.border_title = f"Keys: {self.under.__class__.__name__.removesuffix('Screen')}"
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Static(
                "Remap any key in keymap.toml in your outcomes config folder "
                '(binding id = "key"). '

                "ctrl+p opens the command palette. Full list: docs/tui.md.",
                id="help-note", markup=False,
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Does", "Id")
        seen: set[tuple[str, str]] = set()
        rows = []
        for key, active in self.under.active_bindings.items():
            b = active.binding
            if not b.description or (b.action, key) in seen:
                continue
            seen.add((b.action, key))
            rows.append((self.app.get_key_display(b), b.tooltip or b.description, b.id or ""))
        rows.sort(key=lambda r: r[2] == "")  # ours (with an id) first, then widget keys
        for display, does, binding_id in rows:
            table.add_row(Text(display), Text(does), Text(binding_id, style="dim"))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
