"""Record a patient the clinic referred to a partner, with the clinical rationale (required)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Label

from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved


class OutboundForm(FormScreen):
    FORM_TITLE = "Log outbound referral"
    AUTO_FOCUS = "#out-episode"
    COMMAND_GROUP = "outbound"

    def __init__(self, partner_id: int, partner: str) -> None:
        super().__init__()
        self.partner_id = partner_id
        self.partner = partner

    def fields(self) -> ComposeResult:
        yield Label(f"Referring a patient to {self.partner}", markup=False)
        yield from field("Date", Input(self.today.isoformat(), id="out-date"))
        yield from field("Episode id (optional)", Input(id="out-episode"))
        yield from field("Clinical rationale (required)", Input(id="out-reason"))


    def prepare(self) -> Any:
        return {"date": self.value("#out-date"), "episode_id": self.value("#out-episode"),
                "reason": self.value("#out-reason")}

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.network.outbound import record_outbound

        return RecordSaved(record_outbound(db, self.partner_id, job, today=self.today).message())
