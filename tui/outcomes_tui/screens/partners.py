"""All partners: filter as you type, sort, page. Filtering runs in SQL over the partners table;
the per-partner numbers come from one pass over the monthly rollups, kept while the screen is
open."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input

from outcomes.reports.partners import PartnerPage, PartnerStats, partner_stats, partners_page
from outcomes_tui.context import app_of
from outcomes_tui.messages import PartnersLoaded
from outcomes_tui.widgets.footer import KeysFooter

PAGE_SIZE = 100
COLUMNS: list[tuple[str, str, int | None]] = [
    # (sort key, title, width)
    ("name", "Name", 24),
    ("kind", "Kind", 18),
    ("stage", "Stage", 8),
    ("recent", "90 d", 5),
    ("trend", "", 2),
    ("last_touch", "Last touch", 10),
    ("nps", "NPS", 5),
    ("mcid", "MCID", 5),
]


def _small_n(value: float | None, n: int, fmt: str, min_n: int) -> Text:
    """A rate or score on fewer patients than the clinic's ``min_n`` reads "n<5", never a
    number that looks as solid as one resting on fifty."""
    if value is None or n == 0:
        return Text("—", justify="right")
    if n < min_n:
        return Text(f"n<{min_n}", style="dim", justify="right")
    return Text(fmt.format(value), justify="right")


class PartnersScreen(Screen[None]):
    CSS_PATH = "partners.tcss"
    COMMAND_GROUP = "partners"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="partners.filter",
                tooltip="Type to filter by name, organisation, kind, stage, NPI or city"),
        Binding("down,escape", "focus_table", "Table", show=False, id="partners.to_table",
                tooltip="Move from the filter into the table"),
        Binding("ctrl+o", "next_sort", "Sort", id="partners.sort",
                tooltip="Sort by the next column"),
        Binding("ctrl+r", "reverse", "Reverse", id="partners.reverse",
                tooltip="Reverse the sort order"),
        Binding("right_square_bracket", "page(1)", "Next page", id="partners.next_page",
                tooltip="Show the next page of partners"),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="partners.prev_page",
                tooltip="Show the previous page of partners"),
        Binding("enter", "open", "Open", id="partners.open", show=False,
                tooltip="Open the selected partner"),
        # ctrl+n works from the filter too, where letters type.
        Binding("n,ctrl+n", "new_partner", "New partner", id="partners.new",
                tooltip="Add a partner (NPI checked as you type; warns about duplicates)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort = "name"
        self.descending = False
        self.page_offset = 0
        self.generation = 0
        self.ids: list[int] = []
        self.stats: dict[int, PartnerStats] | None = None
        self.shown: tuple[PartnerPage, str, bool] | None = None
        """The page the table shows, with its sort (what the last load returned)."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Filter partners (name, kind, stage, NPI, city)…", id="filter")
        yield DataTable(id="partners", cursor_type="row", zebra_stripes=True, classes="panel")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, title, width in COLUMNS:
            table.add_column(title, key=key, width=width)
        table.border_title = "Partners"
        self.query_one("#filter", Input).focus()
        self.reload()

    def reload(self) -> None:
        self.generation += 1
        self.load(self.query_one("#filter", Input).value, self.sort, self.descending,
                  self.page_offset, self.generation)

    @work(thread=True, exclusive=True, group="partners", exit_on_error=False)
    def load(self, text: str, sort: str, descending: bool, offset: int, generation: int) -> None:
        app = app_of(self)
        db = app.reader()
        # The per-partner numbers (~0.1 s on a big clinic) are computed once per visit; every
        # keystroke then only filters the partners table (~2 ms).
        stats = self.stats
        if stats is None:
            stats = self.stats = partner_stats(db, app.today)
        page = partners_page(db, app.today, text=text, sort=sort, descending=descending,
                                   limit=PAGE_SIZE, offset=offset, stats=stats)
        self.post_message(PartnersLoaded(page, generation))

    def on_screen_resume(self) -> None:
        # Back from a partner (a touchpoint may have been logged) or another screen: fresh
        # numbers.
        if self.ids:
            self.stats = None
            self.reload()

    def on_partners_loaded(self, message: PartnersLoaded) -> None:
        if message.generation != self.generation:
            return  # a newer filter is on its way
        page: PartnerPage = message.page
        current = (page, self.sort, self.descending)
        if current == self.shown:
            # Back on the screen with nothing changed (the usual case): the table already
            # shows these rows, and rebuilding 100 rows stalled the interface for nothing.
            return
        self.shown = current
        table = self.query_one(DataTable)
        self.ids = [r.id for r in page.rows]
        with self.app.batch_update():
            table.clear()
            for r in page.rows:
                table.add_row(
                    Text(r.name), Text(r.kind), Text(r.stage),
                    Text(str(r.recent), justify="right"), Text(r.trend),
                    Text(r.last_touch or "never"),
                    _small_n(r.nps, r.nps_n, "{:+.0f}", page.min_n),
                    _small_n(r.mcid_rate, r.mcid_n, "{:.0%}", page.min_n),
                    key=str(r.id),
                )
        arrow = "↓" if self.descending else "↑"
        shown = (f"{page.offset + 1}–{page.offset + len(page.rows)} of "
                 if page.matched > PAGE_SIZE else "")
        table.border_title = (f"Partners {shown}{page.matched} of {page.total}"
                              f" · sorted by {self.sort.replace('_', ' ')} {arrow}")

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.page_offset = 0
        self.reload()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        self.action_focus_table()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = key, key in ("recent", "nps", "mcid", "last_touch")
        self.page_offset = 0
        self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(int(str(event.row_key.value)))

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if 0 <= table.cursor_row < len(self.ids):
            self._open(self.ids[table.cursor_row])

    def _open(self, partner_id: int) -> None:
        from outcomes_tui.screens.partner_detail import PartnerDetailScreen

        self.app.push_screen(PartnerDetailScreen(partner_id))

    def action_new_partner(self) -> None:
        from outcomes_tui.forms.new_partner import NewPartnerForm

        def added(saved: bool | None) -> None:
            if saved:
                self.stats = None  # the new partner joins the table and its numbers
                self.reload()
                # Back on the table, not in the filter: the next letter key is a command
                # (e, s, ...), not a filter character.
                self.call_later(self.action_focus_table)

        self.app.push_screen(NewPartnerForm(), added)

    def action_focus_filter(self) -> None:
        # At once, as action_focus_table: "/Lopez" typed fast put "e" (the patients screen's
        # key) to the table, before a deferred focus() reached the filter.
        self.set_focus(self.query_one("#filter", Input))

    def action_focus_table(self) -> None:
        # At once, not by focus()'s deferred callback: typed in one burst ("Dubois", Down,
        # Enter), the Enter reached the filter box before the callback and was lost.
        self.set_focus(self.query_one(DataTable))

    def action_next_sort(self) -> None:
        keys = [k for k, _, _ in COLUMNS]
        self.sort = keys[(keys.index(self.sort) + 1) % len(keys)]
        self.page_offset = 0
        self.reload()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.page_offset = 0
        self.reload()

    def action_page(self, step: int) -> None:
        self.page_offset = max(0, self.page_offset + step * PAGE_SIZE)
        self.reload()
