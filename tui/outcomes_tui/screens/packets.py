"""Evidence packets: choose partners and a period, generate (in a worker), see the files; and
the documents made but not yet sent (packets and letters), each marked as sent once it went
out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Header,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
)

from outcomes.dates import parse_date
from outcomes.errors import OutcomesError
from outcomes.paths import display_path, documents_dir
from outcomes.periods import check_period, default_period
from outcomes.reports.partners import partner_choices
from outcomes.text import one_line
from outcomes_tui.context import app_of
from outcomes_tui.messages import PacketsGenerated, PartnerChoicesLoaded, UnsentLoaded
from outcomes_tui.widgets.footer import KeysFooter

ACTIVE = ("active", "growing", "mature")


class PacketsScreen(Screen[None]):
    CSS_PATH = "packets.tcss"
    COMMAND_GROUP = "packet"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+g", "generate", "Generate", id="packets.generate",
                tooltip="Generate a packet for every ticked partner"),
        Binding("ctrl+a", "select_active", "Tick active", id="packets.select_active",
                tooltip="Tick every active, growing or mature partner"),
        Binding("ctrl+u", "select_none", "Untick all", id="packets.select_none",
                tooltip="Untick every partner"),
        Binding("f8", "mark_sent", "Mark sent", id="packets.mark_sent",
                tooltip="Record the highlighted document as sent (channel and date)"),
    ]

    def compose(self) -> ComposeResult:
        period = default_period(app_of(self).today)
        start, end = period.start, period.end
        yield Header()
        with Horizontal(id="body"):
            partners: SelectionList[int] = SelectionList(id="partners", classes="panel")
            partners.border_title = "Partners (space ticks)"
            yield partners
            with Vertical(id="options", classes="panel") as options:
                options.border_title = "Packet"
                yield Label("Referred from", classes="muted")
                yield Input(start.isoformat(), id="from")
                yield Label("to", classes="muted")
                yield Input(end.isoformat(), id="to")
                yield Label("Format", classes="muted")
                yield Select([("PDF", "pdf"), ("HTML", "html"), ("Markdown", "md")],
                             value="pdf", allow_blank=False, id="format")
                yield Label("Folder", classes="muted")
                yield Input(display_path(documents_dir()), id="folder")
                yield Static("", id="result", markup=False)
        unsent: DataTable[str] = DataTable(id="unsent", classes="panel", cursor_type="row",
                                           zebra_stripes=True)
        unsent.border_title = "Made, not yet sent (f8 or Enter marks one as sent)"
        yield unsent
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()
        table = self.query_one("#unsent", DataTable)
        for label, width in (("Made", 10), ("Document", 18), ("To", 24), ("Episode", 8),
                             ("File", None)):
            table.add_column(label, width=width)
        self.unsent: dict[str, Any] = {}
        self.load_choices()
        self.load_unsent()

    def on_screen_resume(self) -> None:
        self.load_unsent()

    @work(thread=True, exclusive=True, group="packet-unsent", exit_on_error=False)
    def load_unsent(self) -> None:
        from outcomes.network.communications import awaiting_sending

        self.post_message(UnsentLoaded(awaiting_sending(app_of(self).reader())))

    def on_unsent_loaded(self, message: UnsentLoaded) -> None:
        table = self.query_one("#unsent", DataTable)
        keep = table.cursor_row
        table.clear()
        self.unsent = {}
        for row in message.rows:
            key = str(row.id)
            self.unsent[key] = row
            table.add_row(row.date, (row.document or row.kind).replace("_", " "),
                          Text(one_line(row.partner)), row.episode_id or "",
                          Text(display_path(Path(row.file)) if row.file else ""), key=key)
        if message.rows:
            table.move_cursor(row=min(keep, len(message.rows) - 1))
        table.border_subtitle = f"{len(message.rows)} to send" if message.rows else "none"

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "unsent":
            self.action_mark_sent()

    def action_mark_sent(self) -> None:
        from outcomes_tui.forms.mark_sent import MarkSentForm

        table = self.query_one("#unsent", DataTable)
        if not self.unsent or table.cursor_row < 0:
            self.app.notify("Nothing made here is waiting to be sent.", title="Mark sent")
            return
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        made = self.unsent.get(str(key))
        if made is not None:
            def sent(_saved: bool | None) -> None:
                self.load_unsent()

            self.app.push_screen(MarkSentForm(made), sent)

    @work(thread=True, exclusive=True, group="packet-partners", exit_on_error=False)
    def load_choices(self) -> None:
        app = app_of(self)
        self.post_message(PartnerChoicesLoaded(partner_choices(app.reader())))

    def on_partner_choices_loaded(self, message: PartnerChoicesLoaded) -> None:
        self.query_one(SelectionList).clear_options()
        self.stages = {pid: stage for pid, _, stage in message.choices}
        self._pending = [(Text(f"{name}  ({stage})"), pid, False)
                         for pid, name, stage in message.choices]
        self._add_choices()

    def _add_choices(self) -> None:
        """Add the partners in batches: hundreds of options at once would freeze the
        interface for a tenth of a second."""
        batch, self._pending = self._pending[:50], self._pending[50:]
        selection: SelectionList[int] = self.query_one(SelectionList)
        selection.add_options(batch)
        if selection.highlighted is None and selection.option_count:
            selection.highlighted = 0  # space ticks the first partner without a move first
        if self._pending:
            self.call_later(self._add_choices)

    def action_select_active(self) -> None:
        selection: SelectionList[int] = self.query_one(SelectionList)
        for pid, stage in getattr(self, "stages", {}).items():
            if stage in ACTIVE:
                selection.select(pid)

    def action_select_none(self) -> None:
        self.query_one(SelectionList).deselect_all()

    def action_generate(self) -> None:
        app = app_of(self)
        result = self.query_one("#result", Static)
        ids = list(self.query_one(SelectionList).selected)
        if not ids:
            result.update("Tick at least one partner (space), or ctrl+a for all active ones.")
            return
        try:
            start = parse_date(self.query_one("#from", Input).value, field="from",
                               reference=app.today)
            end = parse_date(self.query_one("#to", Input).value, field="to",
                             reference=app.today)
            check_period(start, end)
        except OutcomesError as exc:
            result.update(str(exc))
            return
        folder = Path(self.query_one("#folder", Input).value.strip() or documents_dir())
        folder = folder.expanduser()
        fmt = str(self.query_one("#format", Select).value)
        result.update(f"Making {len(ids)} packet(s)…")
        self.generate(ids, start, end, folder, fmt)

    @work(thread=True, exclusive=True, group="packets", exit_on_error=False)
    def generate(self, ids: list[int], start: Any, end: Any, folder: Path, fmt: str) -> None:
        from outcomes.documents.packets import make_packets

        app = app_of(self)
        try:
            made, failed = make_packets(app.db(), ids, folder, start, end, today=app.today,
                                        fmt=fmt)
        except OutcomesError as exc:
            made, failed = [], [str(exc)]
        self.post_message(PacketsGenerated([m.path for m in made], failed))

    def on_packets_generated(self, message: PacketsGenerated) -> None:
        lines = [f"Wrote {len(message.written)} packet(s):"]
        lines += [f"  {p}" for p in message.written]
        if message.failed:
            lines.append(f"{len(message.failed)} could not be made:")
            lines += [f"  {f}" for f in message.failed]
        if message.written:
            lines.append("Each is logged as made; mark it as sent (f8) once it has gone out.")
        self.query_one("#result", Static).update("\n".join(lines))
        self.app.notify(escape(lines[0]), title="Packets")
        self.load_unsent()
