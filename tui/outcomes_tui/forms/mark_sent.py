"""Record that a document the app made (a packet or a letter) went out: channel and date."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from outcomes import vocab
from outcomes.network.communications import CommunicationListing
from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved


class MarkSentForm(FormScreen):
    """Making a document is not sending it: only a document recorded as sent clears its
    owed-letter alert and counts in "did the packet help?" (``network.communications.mark_sent``,
    the same call as ``outcomes communications sent``)."""

    FORM_TITLE = "Mark as sent"

    AUTO_FOCUS = "#sent-channel"
    COMMAND_GROUP = "document"

    def __init__(self, made: CommunicationListing) -> None:
        super().__init__()
        self.made = made

    def fields(self) -> ComposeResult:
        what = (self.made.document or self.made.kind).replace("_", " ")
        episode = f" · episode {self.made.episode_id}" if self.made.episode_id else ""
        yield Label(f"{what.capitalize()} to {self.made.partner}{episode}, made "
                    f"{self.made.date}", markup=False)
        yield from field("Sent by", Select([(c, c) for c in vocab.CHANNELS.values],
                                           value=self.made.channel
                                           if self.made.channel in vocab.CHANNELS.values
                                           else "fax", allow_blank=False, id="sent-channel"))
        yield from field("Date sent", Input(self.today.isoformat(), id="sent-date"))


    def prepare(self) -> Any:
        return self.choice("#sent-channel"), self.value("#sent-date")

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.network.communications import mark_sent

        channel, when = job
        return RecordSaved(mark_sent(db, self.made.id, channel=channel, when=when or None,
                                     today=self.today).message())
