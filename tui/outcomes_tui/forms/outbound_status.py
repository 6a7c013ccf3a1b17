"""Move an outbound referral along: sent -> scheduled -> seen -> findings received -> closed.

The picker offers the steps after the current one (the core's order, ``outbound.STATUSES``;
steps may be skipped); the date of the step defaults to today in the core, as on the command
line (``outcomes outbound update``); the findings box shows for the steps that can bring them.
Every rule (no step back, no date before the referral was sent, no date ahead but a scheduled
one, the findings' length) is the core's: ``update_outbound`` says what is wrong and the form
shows it with the input kept."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from outcomes.text import one_line
from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved

DATE_LABEL = {"scheduled": "Appointment date (may be ahead)", "seen": "Date seen",
              "findings_received": "Date the findings came back", "closed": "Date closed"}
"""What the date means for each step."""
FINDINGS_STEPS = ("findings_received", "closed")
"""The steps that may carry the findings (closing one whose findings were never recorded)."""


def step_label(status: str) -> str:
    return status.replace("_", " ")


def next_steps(status: str) -> list[str]:
    """The steps an outbound referral at ``status`` may move to (forward, steps skipped)."""
    from outcomes.network.outbound import STATUSES

    return list(STATUSES[STATUSES.index(status) + 1:])


class OutboundStatusForm(FormScreen):
    FORM_TITLE = "Follow outbound referral"
    COMMAND_GROUP = "outbound"

    def __init__(self, referral: Any) -> None:
        """``referral``: the core's ``OutboundListing`` of the referral to move."""
        super().__init__()
        self.referral = referral

    def fields(self) -> ComposeResult:
        r = self.referral
        episode = f" · episode {r.episode_id}" if r.episode_id else ""
        yield Label(one_line(f"Outbound referral {r.id} to {r.partner}{episode} · sent {r.date}"
                             f" · now {step_label(r.status)}", 70), markup=False)
        yield Label(one_line(f"Rationale: {r.reason}", 70), markup=False, classes="field-label")
        steps = next_steps(r.status)
        yield from field("Move to", Select([(step_label(s), s) for s in steps],
                                           value=steps[0], allow_blank=False, id="os-status"))
        yield Label(DATE_LABEL[steps[0]], id="os-date-label", classes="field-label")
        yield Input(id="os-date", placeholder="YYYY-MM-DD (empty: today)")
        yield Label("Findings (what came back)", id="os-findings-label", classes="field-label")
        yield Input(id="os-findings")

    def on_mount(self) -> None:
        super().on_mount()
        self.show_fields(self.choice("#os-status"))

    def focus_first(self) -> None:
        self.query_one("#os-status", Select).focus()

    @on(Select.Changed, "#os-status")
    def status_changed(self, event: Select.Changed) -> None:
        self.show_fields(str(event.value))

    def show_fields(self, status: str) -> None:
        self.query_one("#os-date-label", Label).update(DATE_LABEL.get(status, "Date"))
        for selector in ("#os-findings-label", "#os-findings"):
            self.query_one(selector).display = status in FINDINGS_STEPS

    def prepare(self) -> Any:
        status = self.choice("#os-status")
        findings = self.value("#os-findings") if status in FINDINGS_STEPS else ""
        return {"status": status, "when": self.value("#os-date") or None,
                "findings": findings or None}

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.network.outbound import update_outbound

        return RecordSaved(update_outbound(db, self.referral.id, status=job["status"],
                                           when=job["when"], findings=job["findings"],
                                           today=self.today).message())
