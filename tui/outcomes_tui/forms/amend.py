"""Amend a stored response: the reason, then the survey's answers replace the stored ones and
the response carries "amended on DATE: reason" (``measures.responses.save_response(amend=)``,
as ``outcomes responses add --amend``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Label

from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved


@dataclass(frozen=True)
class Amendment:
    """What the survey form holds: the new answers for the stored response."""

    episode_id: str
    instrument: str
    timepoint: str
    answers: list[int | None]
    when: date


class AmendForm(FormScreen):
    FORM_TITLE = "Amend the stored response"
    AUTO_FOCUS = "#amend-reason"
    COMMAND_GROUP = "survey"

    def __init__(self, amendment: Amendment) -> None:
        super().__init__()
        self.amendment = amendment

    def fields(self) -> ComposeResult:
        a = self.amendment
        yield Label(f"{a.instrument} {a.timepoint} of episode {a.episode_id}, {a.when}: the "
                    "answers you typed replace the stored ones, and the response shows it "
                    "was amended and why.", markup=False)
        yield from field("Reason (e.g. patient corrected item 4 on review)",
                         Input(id="amend-reason"))

    def prepare(self) -> Any:
        return self.value("#amend-reason")

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.measures.responses import save_response

        a = self.amendment
        return RecordSaved(save_response(db, a.episode_id, a.instrument, a.timepoint, a.answers,
                                         a.when, amend=job).message())
