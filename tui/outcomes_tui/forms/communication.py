"""Record something sent to a partner: a progress update, discharge summary, letter, packet."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from outcomes import vocab
from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved


class CommunicationForm(FormScreen):
    FORM_TITLE = "Log update sent"
    COMMAND_GROUP = "update"

    def __init__(self, partner_id: int, partner: str, episode_id: str | None = None) -> None:
        super().__init__()
        self.partner_id = partner_id
        self.partner = partner
        self.episode_id = episode_id

    def fields(self) -> ComposeResult:
        yield Label(f"Sent to {self.partner}", markup=False)
        yield from field("Date", Input(self.today.isoformat(), id="comm-date"))
        yield from field("Episode id", Input(self.episode_id or "", id="comm-episode"))
        yield from field("What", Select(
            [(k.replace("_", " "), k) for k in vocab.COMMUNICATION_KINDS.values],
            value="discharge_summary" if self.episode_id else "progress_update",
            allow_blank=False, id="comm-kind"))
        yield from field("Channel", Select([(c, c) for c in vocab.CHANNELS.values],
                                           value="fax", allow_blank=False, id="comm-channel"))
        yield from field("Note (optional)", Input(id="comm-note"))

    def prepare(self) -> Any:
        return {"date": self.value("#comm-date"), "episode_id": self.value("#comm-episode"),
                "kind": self.choice("#comm-kind"), "channel": self.choice("#comm-channel"),
                "note": self.value("#comm-note")}

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.network.communications import log_communication

        return RecordSaved(log_communication(db, self.partner_id, job,
                                             today=self.today).message())
