"""Home: this month's referrals, active partners, MCID rate and NPS, the alert queue, a chart."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from outcomes.periods import add_months
from outcomes.reports.dashboard import DashboardSummary, dashboard_mcid, dashboard_summary
from outcomes.reports.rollups import Rate
from outcomes_tui.context import app_of
from outcomes_tui.messages import AlertsLoaded, DashboardLoaded, McidLoaded, RecordSaved
from outcomes_tui.widgets.plot import Plot, Series

MAX_ALERTS = 200
"""Rows shown in the alert queue (the queue comes sorted, most urgent first)."""

KIND_LABELS = {
    "relationship_at_risk": "at risk",
    "referral_unscheduled": "not scheduled",
    "patient_worsening": "worsening",
    "touch_overdue": "touch overdue",
    "first_referral": "first referral",
    "update_owed": "update owed",
    "spend_limit": "spend limit",
    "detractor": "detractor",
}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _change(now: int, then: int, colours: dict[str, str]) -> Text:
    if then == 0:
        return Text("—", style="dim")
    delta = (now - then) / then
    name = "text-success" if delta > 0.05 else "text-error" if delta < -0.05 else "foreground"
    return Text(f"{delta:+.0%}", style=colours.get(name, ""))


class DashboardScreen(Screen[None]):
    """What needs doing now, and how the clinic is doing."""

    CSS_PATH = "dashboard.tcss"
    COMMAND_GROUP = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_partner", "Open partner", id="dashboard.open_partner",
                tooltip="Open the partner of the selected alert"),
        Binding("t", "log_touchpoint", "Log touchpoint", id="dashboard.log_touchpoint",
                tooltip="Log a call, visit or letter to the selected alert's partner"),
        Binding("u", "log_update", "Log update sent", id="dashboard.log_update",
                tooltip="Record that the update owed for the selected alert was sent"),
        Binding("r", "refresh", "Refresh", id="dashboard.refresh",
                tooltip="Reload the numbers and the alert queue"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="kpis"):
            yield Static("Referrals this month\n…", id="kpi-month", classes="kpi panel")
            yield Static("Active partners\n…", id="kpi-partners", classes="kpi panel")
            yield Static("Reached MCID\n…", id="kpi-mcid", classes="kpi panel")
            yield Static("NPS\n…", id="kpi-nps", classes="kpi panel")
        with Vertical(id="queue", classes="panel") as queue:
            queue.border_title = "Alert queue"
            yield DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
            yield Static("", id="alert-detail", markup=False)
        yield Plot("Referrals per month (last 24 months)", id="chart", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#alerts", DataTable)
        table.add_column("What", key="kind", width=15)
        table.add_column("Partner", key="partner", width=26)
        table.add_column("Why", key="message", width=160)
        table.focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        # The numbers first (one plain connection, a few indexed/rollup queries); the alert
        # queue, which imports and computes much more, starts once they are on screen.
        # The MCID rate (the slowest number) is read on its own thread and connection, in
        # parallel: SQLite releases the GIL while it works.
        self.load_summary()
        self.load_mcid()

    @work(thread=True, exclusive=True, group="dashboard-summary", exit_on_error=False)
    def load_summary(self) -> None:
        app = app_of(self)
        self.post_message(DashboardLoaded(
            dashboard_summary(app.reader(), app.today, with_mcid=False)))

    @work(thread=True, exclusive=True, group="dashboard-mcid", exit_on_error=False)
    def load_mcid(self) -> None:
        app = app_of(self)
        self.post_message(McidLoaded(dashboard_mcid(app.reader(), app.today)))

    def on_mcid_loaded(self, message: McidLoaded) -> None:
        rate: Rate = message.rate
        self.query_one("#kpi-mcid", Static).update(Text.assemble(
            ("Reached MCID\n", "bold"), (_pct(rate.rate), "bold"),
            f" n={rate.n}\nreferred in 12 mo"))

    @work(thread=True, exclusive=True, group="dashboard-alerts", exit_on_error=False)
    def load_alerts(self) -> None:
        app = app_of(self)
        try:
            from outcomes.network.alerts import compute_alerts
        except ImportError:
            self.post_message(AlertsLoaded([], available=False))
            return
        self.post_message(AlertsLoaded(compute_alerts(app.db(), app.today)))

    def on_dashboard_loaded(self, message: DashboardLoaded) -> None:
        s: DashboardSummary = message.summary
        colours = self.app.theme_variables
        last_month = add_months(s.today, -1).strftime("%b")
        year_ago = add_months(s.today, -12).strftime("%b %Y")
        self.query_one("#kpi-month", Static).update(Text.assemble(
            (f"Referrals {s.today:%b} 1–{s.today.day}\n", "bold"),
            (f"{s.month_to_date}", "bold"),
            " vs ", _change(s.month_to_date, s.last_month_same_days, colours),
            f" {last_month} ({s.last_month_same_days})\n",
            "vs ", _change(s.month_to_date, s.year_ago_same_days, colours),
            f" {year_ago} ({s.year_ago_same_days})",
        ))
        self.query_one("#kpi-partners", Static).update(Text.assemble(
            ("Active partners\n", "bold"), (f"{s.active_partners}", "bold"),
            f" of {s.partners_total}\nreferred in 90 days"))
        if s.mcid is not None:
            self.on_mcid_loaded(McidLoaded(s.mcid))
        nps = "—" if s.nps.score is None else f"{s.nps.score:+.0f}"
        moe = "" if s.nps.moe95 is None else f" ±{s.nps.moe95:.0f}"
        self.query_one("#kpi-nps", Static).update(Text.assemble(
            ("NPS\n", "bold"), (nps, "bold"), f"{moe} n={s.nps.n}\nlast 12 months"))
        labels = [k for k, _ in s.per_month]
        self.query_one(Plot).set_data(
            [Series(labels, [float(n) for _, n in s.per_month])]
        )
        # After this frame is painted, not before it.
        self.call_after_refresh(self.load_alerts)

    def on_alerts_loaded(self, message: AlertsLoaded) -> None:
        table = self.query_one("#alerts", DataTable)
        self.alerts = message.alerts
        table.clear()
        queue = self.query_one("#queue")
        if not message.available:
            queue.border_title = "Alert queue (not available in this version)"
            return
        total = len(self.alerts)
        # Adding rows blocks the event loop (~0.2 s per 1,000): show the most urgent first.
        self.alerts = self.alerts[:MAX_ALERTS]
        shown = f"{len(self.alerts)} of {total}" if total > len(self.alerts) else str(total)
        queue.border_title = f"Alert queue ({shown})"
        with self.app.batch_update():
            for index, alert in enumerate(self.alerts):
                table.add_row(
                    Text(KIND_LABELS.get(alert.kind, alert.kind)),
                    Text(alert.partner or "—"),
                    Text(alert.message),
                    key=str(index),
                )
        self._show_detail()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open_partner()

    def _current(self) -> Any | None:
        table = self.query_one("#alerts", DataTable)
        if not self.alerts or table.cursor_row < 0 or table.cursor_row >= len(self.alerts):
            return None
        return self.alerts[table.cursor_row]

    def _show_detail(self) -> None:
        alert = self._current()
        detail = self.query_one("#alert-detail", Static)
        if alert is None:
            detail.update(Text("Nothing needs doing right now.", style="dim"))
            return
        evidence = ", ".join(f"{k}={v}" for k, v in (alert.evidence or {}).items())
        detail.update(Text.assemble(
            (alert.message, "bold"), "\n", ("Suggested: ", "dim"), alert.suggested_action,
            "\n", (evidence, "dim"),
        ))

    def action_open_partner(self) -> None:
        alert = self._current()
        if alert is None or alert.partner_id is None:
            self.notify("This alert has no partner to open.", severity="warning")
            return
        from outcomes_tui.screens.partner_detail import PartnerDetailScreen

        self.app.push_screen(PartnerDetailScreen(alert.partner_id))

    def action_log_touchpoint(self) -> None:
        alert = self._current()
        if alert is None or alert.partner_id is None:
            self.notify("Select an alert with a partner first.", severity="warning")
            return
        from outcomes_tui.forms.touchpoint import TouchpointForm

        self.app.push_screen(TouchpointForm(alert.partner_id, alert.partner or ""),
                             self._after_form)

    def action_log_update(self) -> None:
        alert = self._current()
        if alert is None or alert.partner_id is None or not alert.episode_id:
            self.notify("Select an 'update owed' alert first.", severity="warning")
            return
        from outcomes_tui.forms.communication import CommunicationForm

        self.app.push_screen(
            CommunicationForm(alert.partner_id, alert.partner or "", alert.episode_id),
            self._after_form,
        )

    def _after_form(self, saved: bool | None) -> None:
        if saved:
            self.load_alerts()

    def on_record_saved(self, message: RecordSaved) -> None:
        self.load_alerts()
