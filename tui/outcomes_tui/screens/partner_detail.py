"""One partner: contact, stage, scorecard, charts, touchpoints, referrals in and out (with the
outbound loop and the reciprocity ledger), and the communication log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from outcomes.network.packet_effect import Pooled
from outcomes.reports.labels import scale_labels
from outcomes.reports.partners import PartnerConditions, PartnerDetail, partner_detail
from outcomes.reports.recovery import RecoveryChart, recovery_sentence
from outcomes.reports.scorecard import ScaleFigures, Scorecard
from outcomes.text import one_line
from outcomes_tui.context import app_of
from outcomes_tui.messages import (
    PartnerLoaded,
    RecordSaved,
    ScorecardLoaded,
)
from outcomes_tui.widgets.footer import KeysFooter
from outcomes_tui.widgets.plot import Plot, Series


def _num(value: Any, fmt: str = "{:.1f}") -> str:
    return "—" if value is None else fmt.format(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _table(columns: list[str], rows: list[list[Any]]) -> list[Any]:
    return [columns, rows]


TEXT_WIDTH = 60
"""Stored free text (a rationale, findings, a note) is cut to this many cells in a table."""


@dataclass(eq=False, repr=False)  # an event (see outcomes_tui.messages)
class ByConditionLoaded(Message):
    """The partner screen's outcomes by condition and time to recovery: the partner's and the
    clinic's curves and the step chart's lines as far as they may be drawn (the packet's rule,
    ``reports.recovery.recovery_chart``)."""

    conditions: PartnerConditions
    recovery: RecoveryChart


@dataclass(eq=False, repr=False)  # an event (see outcomes_tui.messages)
class LoopLoaded(Message):
    """The referrer loop with one partner, read by the core: outbound referrals
    (``outbound.list_outbound``), the reciprocity ledger (``outbound.reciprocity``; None when
    nothing either way) and the communication log (``communications.list_communications``)."""

    outbound: list[Any] = field(default_factory=list)
    ledger: Any = None
    communications: list[Any] = field(default_factory=list)


def ledger_text(ledger: Any) -> str:
    """The reciprocity ledger in one line: both directions, how many and when last."""
    if ledger is None:
        return "Reciprocity: no referrals either way yet."
    received = (f"{ledger.received} received from them"
                + (f" (last {ledger.last_received})" if ledger.last_received else ""))
    sent = (f"{ledger.sent} sent to them"
            + (f" (last {ledger.last_sent})" if ledger.last_sent else ""))
    return f"Reciprocity: {received} · {sent}."


class PartnerDetailScreen(Screen[None]):
    CSS_PATH = "partner_detail.tcss"
    COMMAND_GROUP = "partner"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="partner.back", tooltip="Back to the previous screen"),
        Binding("t", "log_touchpoint", "Log touchpoint", id="partner.log_touchpoint",
                tooltip="Log a call, visit, letter, gift or meal"),
        Binding("o", "log_outbound", "Log outbound", id="partner.log_outbound",
                tooltip="Log a patient the clinic referred to this partner (rationale required)"),
        Binding("u", "log_update", "Log update sent", id="partner.log_update",
                tooltip="Record a progress update, discharge summary or letter sent"),
        Binding("ctrl+e", "edit", "Edit", id="partner.edit",
                tooltip="Edit contact details, stage and notes"),
        Binding("k", "packet", "Make packet", id="partner.packet",
                tooltip="Generate this partner's evidence packet (last 12 months)"),
        Binding("n", "new_referral", "New referral", id="partner.new_referral",
                tooltip="Record a new referral from this partner"),
        Binding("s", "outbound_status", "Follow outbound", id="partner.outbound_status",
                tooltip="Move the outbound referral under the cursor along: scheduled, seen, "
                        "findings received, closed"),
    ]

    def __init__(self, partner_id: int) -> None:
        super().__init__()
        self.partner_id = partner_id
        self.partner: dict[str, Any] | None = None
        self.detail: PartnerDetail | None = None
        self.labels: dict[str, str] = {}
        self.scorecard: Scorecard | None = None
        """The partner's scorecard for the default period, once loaded (what the screen shows)."""
        self.recovery: RecoveryChart | None = None
        """The time-to-recovery chart as plotted, once loaded."""
        self.outbound: list[Any] = []
        """The outbound referrals to this partner as listed (``OutboundListing``), newest first."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="contact", classes="panel", markup=False)
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="tab-overview"), VerticalScroll():
                yield DataTable(id="scorecard", cursor_type="row", show_cursor=False)
                yield Static("", id="scorecard-note", markup=False)
                with Horizontal(id="charts"):
                    yield Plot("Referrals per month", id="chart-referrals")
                    yield Plot("Improvement: partner | clinic", id="chart-outcomes")
            with TabPane("By condition", id="tab-conditions"), Vertical():
                yield Static("", id="conditions-headline", markup=False)
                yield DataTable(id="conditions", cursor_type="row", zebra_stripes=True)
                yield Plot("Not yet recovered (%), by week: partner | clinic",
                           id="chart-recovery")
            with TabPane("Touchpoints", id="tab-touchpoints"):
                yield DataTable(id="touchpoints", cursor_type="row", zebra_stripes=True)
            with TabPane("Referrals in", id="tab-in"):
                yield DataTable(id="referrals-in", cursor_type="row", zebra_stripes=True)
            with TabPane("Referrals out", id="tab-out"), Vertical():
                yield Static("", id="ledger", markup=False)
                yield DataTable(id="referrals-out", cursor_type="row", zebra_stripes=True)
            with TabPane("Communications", id="tab-comms"):
                yield DataTable(id="communications", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="partner", exit_on_error=False)
    def load(self) -> None:
        app = app_of(self)
        detail = partner_detail(app.reader(), self.partner_id, app.today)
        labels = scale_labels()
        # The contact, charts and tables show at once; the full scorecard (with confidence
        # intervals, ~0.2 s on a big clinic) follows.
        self.post_message(PartnerLoaded(detail, labels))
        from outcomes.network.communications import list_communications
        from outcomes.network.outbound import list_outbound, reciprocity

        db = app.db()
        ledger = reciprocity(db, partner_id=self.partner_id)
        self.post_message(LoopLoaded(
            list_outbound(db, partner_id=self.partner_id, limit=None),
            ledger[0] if ledger else None,
            list_communications(db, partner_id=self.partner_id, limit=500)))
        from outcomes.periods import default_period
        from outcomes.reports.scorecard import scorecard

        period = default_period(app.today)
        card = scorecard(app.db(), period.start, period.end, partner_ids=[self.partner_id])
        self.post_message(ScorecardLoaded(card))
        from outcomes.reports.partners import partner_conditions
        from outcomes.reports.recovery import recovery_chart

        reader = app.reader()
        self.post_message(ByConditionLoaded(
            partner_conditions(reader, self.partner_id, app.today),
            recovery_chart(reader, self.partner_id, period)))

    def on_by_condition_loaded(self, message: ByConditionLoaded) -> None:
        """The pooled headline, time to recovery beside the clinic's, and the condition groups
        and procedures (suppressed below min_n, as everywhere)."""
        figures = message.conditions
        found = message.recovery
        self.recovery = found
        self.query_one("#conditions-headline", Static).update(
            f"{figures.headline}\n{recovery_sentence(found.mine, found.clinic)}")
        # The Kaplan-Meier step chart, sampled weekly over the first half year; each line
        # stops where the packet's does (fewer than min_n patients still followed).
        lines = [(values, label) for values, label in ((found.mine_line, self._partner_name()),
                                                       (found.clinic_line, "clinic"))
                 if values is not None]
        # One week axis for both, as long as the longer line (the first series names the ticks).
        weeks = list(range(max((len(values) for values, _ in lines), default=0)))
        series = [Series(weeks, values, label, "line") for values, label in lines]
        self.query_one("#chart-recovery", Plot).set_data(
            series, message="Time to recovery is not shown for fewer than the minimum number "
                            "of patients")
        table = self.query_one("#conditions", DataTable)
        table.clear(columns=True)
        table.add_columns("", "Condition or procedure", "Patients", "Reached MCID",
                          "95% CI", "Clinic")
        for row in figures.rows:
            rate = row.mine.mcid_rate
            ci = row.mine.mcid_rate_ci95
            clinic = row.clinic.mcid_rate if row.clinic is not None else None
            table.add_row(
                row.kind, Text(one_line(row.name)), str(row.mine.n),
                "fewer than min_n" if rate is None else f"{rate:.0%}",
                "" if ci is None else f"{ci[0]:.0%}–{ci[1]:.0%}",
                "—" if clinic is None else f"{clinic:.0%}")

    def on_scorecard_loaded(self, message: ScorecardLoaded) -> None:
        if self.detail is None or message.scorecard is None:
            return
        card: Scorecard = message.scorecard
        self.scorecard = card
        self._fill_scorecard(self.detail, card)
        self.query_one("#scorecard-note", Static).update(
            f"Packets: {card.partner(self.partner_id).packet_effect.caution}")
        mine, clinic = card.partner(self.partner_id).outcomes, card.clinic.outcomes
        scales = [s for s, block in sorted(mine.items()) if block.mean_improvement is not None]

        def clinic_mean(scale: str) -> float:
            block = clinic.get(scale)
            return block.mean_improvement or 0.0 if block else 0.0

        self.query_one("#chart-outcomes", Plot).set_data(
            [
                Series([self._label(s) for s in scales],
                       [mine[s].mean_improvement or 0.0 for s in scales], self._partner_name()),
                Series([self._label(s) for s in scales], [clinic_mean(s) for s in scales],
                       "clinic"),
            ],
            message="No outcomes shown for the last 12 months (none, or too few patients)",
        )

    def on_partner_loaded(self, message: PartnerLoaded) -> None:
        d: PartnerDetail = message.detail
        p = d.partner
        self.partner = p
        self.detail = d
        self.labels = message.labels
        self.sub_title = p["name"]
        contact = " · ".join(x for x in (p.get("phone") and f"phone {p['phone']}",
                                          p.get("fax") and f"fax {p['fax']}",
                                          p.get("email"), p.get("address"), p.get("city"))
                             if x)
        header = Text.assemble(
            (p["name"], "bold"), f"  {p['kind']}",
            f" · {p['organization']}" if p.get("organization") else "",
            f" · NPI {p['npi']}" if p.get("npi") else " · no NPI",
            "\n", ("Stage ", "dim"), p["stage"],
            (" (your choice)" if p.get("stage_source") == "user" else " (suggested)", "dim"),
            ("  Referrals ", "dim"), f"{d.referrals_in_total} in / {d.referrals_out_total} out",
            ("  NPS ", "dim"),
            d.nps_text,
            "\n", (contact or "no contact details on file", "dim"),
        )
        if p.get("notes"):
            header.append(f"\nNotes: {p['notes']}", style="italic")
        self.query_one("#contact", Static).update(header)
        self._fill_scorecard(d, None)
        self.query_one("#chart-referrals", Plot).set_data(
            [Series([k for k, _ in d.per_month], [float(n) for _, n in d.per_month])]
        )
        self.query_one("#chart-outcomes", Plot).set_data([], message="Loading outcomes…")
        self._fill("#touchpoints", ["Date", "Method", "Who", "Summary", "$", "Follow-up"],
                   [[t["date"], t["method"], t["who"] or "", t["summary"],
                     "" if t["amount"] is None else f"{t['amount']:.2f}",
                     t["next_follow_up"] or ""] for t in d.touchpoints])
        self._fill("#referrals-in", ["Episode", "Referred", "Region", "Diagnosis", "Status",
                                     "Discharged"],
                   [[r["id"], r["referral_date"], r["body_region"], r["diagnosis"] or "",
                     r["status"], r["discharge_date"] or ""] for r in d.referrals_in])

    def on_loop_loaded(self, message: LoopLoaded) -> None:
        self.outbound = message.outbound
        self.query_one("#ledger", Static).update(one_line(ledger_text(message.ledger)))
        self._fill("#referrals-out", ["Id", "Sent", "Episode", "Status", "Scheduled", "Seen",
                                      "Findings back", "Closed", "Rationale", "Findings"],
                   [[r.id, r.date, r.episode_id or "", r.status.replace("_", " "),
                     r.scheduled_date or "", r.seen_date or "", r.findings_date or "",
                     r.closed_date or "", r.reason, r.findings or ""] for r in message.outbound],
                   keys=[str(r.id) for r in message.outbound])
        self._fill("#communications", ["Made", "What", "Channel", "Status", "Sent", "Episode",
                                       "SHA-256", "Note"],
                   [[c.date, (c.document or c.kind).replace("_", " "), c.channel, c.status,
                     c.sent_date or "", c.episode_id or "", (c.sha256 or "")[:12], c.note or ""]
                    for c in message.communications])

    def _fill(self, selector: str, columns: list[str], rows: list[list[Any]],
              keys: list[str] | None = None) -> None:
        table = self.query_one(selector, DataTable)
        table.clear(columns=True)
        table.add_columns(*columns)
        for n, row in enumerate(rows):
            # Stored text as plain text on one line: never markup, control characters escaped.
            table.add_row(*[Text(one_line(str(v), TEXT_WIDTH)) for v in row],
                          key=keys[n] if keys else None)
        if not rows:
            table.add_row(*([Text("none yet", style="dim")] + [Text("")] * (len(columns) - 1)))

    def _fill_scorecard(self, d: PartnerDetail, card: Scorecard | None) -> None:
        rows: list[list[str]] = []
        if card is not None and card.partners:
            mine, clinic = card.partner(self.partner_id), card.clinic
            rows.append(["Referrals (12 mo)", str(mine.referrals), str(clinic.referrals)])
            rows.append(["Conversion", _pct(mine.conversion_rate), _pct(clinic.conversion_rate)])
            rows.append(["Median days to first visit",
                         _num(mine.median_days_to_first_visit, "{:.0f}"),
                         _num(clinic.median_days_to_first_visit, "{:.0f}")])
            rows.append(["Median visits", _num(mine.median_visits, "{:.0f}"),
                         _num(clinic.median_visits, "{:.0f}")])
            for scale, block in sorted(mine.outcomes.items()):
                rows.append([f"{self._label(scale)}: reached MCID", self._mcid(block),
                             self._mcid(clinic.outcomes.get(scale))])
            f, cf = mine.funnel, clinic.funnel
            rows.append(["Received → scheduled → seen → completed",
                         f"{f.received} → {f.scheduled} → {f.evaluated} → {f.completed}",
                         f"{cf.received} → {cf.scheduled} → {cf.evaluated} → {cf.completed}"])
            if f.not_scheduled:
                rows.append(["Not scheduled (why)", ", ".join(
                    f"{reason} {n}" for reason, n in f.not_scheduled.items()), ""])
            rows.append(["Referrals 90 d before → after a packet",
                         self._packets(mine.packet_effect), self._packets(clinic.packet_effect)])
        else:
            rows.append(["Outcomes", "loading…", ""])
        rows.append(["NPS (12 mo)",
                     d.nps_text, ""])
        table = self.query_one("#scorecard", DataTable)
        table.clear(columns=True)
        table.add_columns("Last 12 months", "This partner", "Clinic")
        for row in rows:
            table.add_row(*[Text(v) for v in row])

    def _label(self, scale: str) -> str:
        return self.labels.get(scale, scale)

    @staticmethod
    def _packets(pooled: Pooled) -> str:
        """Did the packets help? Shown with its caution in the note under the table."""
        if pooled.packets == 0 or pooled.mean_before is None or pooled.mean_after is None:
            return "no packet with 90 days after yet"
        ci = f" (95% CI {pooled.ci95[0]:+.1f} to {pooled.ci95[1]:+.1f})" if pooled.ci95 else ""
        return (f"{pooled.mean_before:.1f} → {pooled.mean_after:.1f}{ci}, "
                f"{pooled.packets} packet{'s' if pooled.packets != 1 else ''}")

    @staticmethod
    def _mcid(block: ScaleFigures | None) -> str:
        if block is None or block.mcid_rate is None:
            return f"— (n={block.n if block else 0})"
        ci = block.mcid_rate_ci95
        ci_text = f" [{ci[0]:.0%}–{ci[1]:.0%}]" if ci else ""
        return f"{block.mcid_rate:.0%}{ci_text} (n={block.n})"

    # --- actions ---------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def _partner_name(self) -> str:
        return self.partner["name"] if self.partner else ""

    def action_log_touchpoint(self) -> None:
        from outcomes_tui.forms.touchpoint import TouchpointForm

        self.app.push_screen(TouchpointForm(self.partner_id, self._partner_name()), self._after)

    def action_log_outbound(self) -> None:
        from outcomes_tui.forms.outbound import OutboundForm

        self.app.push_screen(OutboundForm(self.partner_id, self._partner_name()), self._after)

    def action_log_update(self) -> None:
        from outcomes_tui.forms.communication import CommunicationForm

        self.app.push_screen(CommunicationForm(self.partner_id, self._partner_name()), self._after)

    def action_outbound_status(self) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        table = self.query_one("#referrals-out", DataTable)
        if not self.outbound:
            tabs.active = "tab-out"
            self.notify("No outbound referrals to this partner yet (o logs one).",
                        title="Follow outbound")
            return
        if tabs.active != "tab-out":
            # Show the list first: the form acts on the row under the cursor, which the user
            # must have seen.
            tabs.active = "tab-out"
            table.focus()
            self.notify("Pick the outbound referral, then press s.", title="Follow outbound")
            return
        row = self.outbound[min(table.cursor_row, len(self.outbound) - 1)]
        if row.status == "closed":
            self.notify(f"Outbound referral {row.id} is closed.", title="Follow outbound")
            return
        from outcomes_tui.forms.outbound_status import OutboundStatusForm

        self.app.push_screen(OutboundStatusForm(row), self._after)

    def action_edit(self) -> None:
        if self.partner is None:
            return
        from outcomes_tui.forms.partner_edit import PartnerEditForm

        self.app.push_screen(PartnerEditForm(self.partner), self._after)

    def action_new_referral(self) -> None:
        if self.partner is None:
            return
        from outcomes_tui.forms.new_referral import NewReferralForm

        self.app.push_screen(NewReferralForm((self.partner_id, self._partner_name())),
                             self._after)

    def _after(self, saved: bool | None) -> None:
        if saved:
            self.load()

    def action_packet(self) -> None:
        self.notify(f"Making the packet for {escape(self._partner_name())}…")
        self.make_packet()

    @work(thread=True, exclusive=True, group="packets", exit_on_error=False)
    def make_packet(self) -> None:
        from outcomes.documents.packets import make_packets
        from outcomes.paths import documents_dir
        from outcomes.periods import default_period

        app = app_of(self)
        period = default_period(app.today)
        made, failed = make_packets(app.db(), [self.partner_id], documents_dir(), period.start,
                                    period.end, today=app.today)
        self.post_message(RecordSaved(
            f"Packet written to {made[0].path}" if made else f"No packet: {'; '.join(failed)}"
        ))

    def on_record_saved(self, message: RecordSaved) -> None:
        self.notify(escape(message.text), title="Packet", timeout=10)
