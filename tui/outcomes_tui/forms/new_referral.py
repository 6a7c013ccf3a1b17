"""Record a new inbound referral: the patient (name, date of birth, record number), who referred
them (a partner picked by typing part of the name, or nobody), the referral date, body region and
diagnosis (ICD-10, checked by the core), and the condition: after surgery or not, the procedure
(typed, → completes from the vocabulary and its synonyms; the core stores the procedure's name)
and the primary measure when it is not the region's. The episode id follows the clinic's
numbering and can be changed.

The referrer's question has no field: the Episode record holds the patient's chief complaint,
which is not the same thing, so it is not stored there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input, Select

from outcomes import vocab
from outcomes.errors import ValidationError
from outcomes_tui.context import app_of
from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import PartnerChoicesLoaded, RecordSaved
from outcomes_tui.widgets.inputs import OrderedInput
from outcomes_tui.widgets.name_suggester import PartOfName, accepted


@dataclass(eq=False, repr=False)  # an event (see outcomes_tui.messages)
class EpisodeIdSuggested(Message):
    """The next free episode id in the clinic's numbering."""

    episode_id: str


def choice_labels(choices: list[tuple[int, str, str]]) -> dict[str, int]:
    """Picker text -> partner id. A name two partners share gets its id, so each label names
    exactly one partner."""
    seen: dict[str, int] = {}
    for _, name, _ in choices:
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
    return {(name if seen[name.casefold()] == 1 else f"{name} (id {pid})"): pid
            for pid, name, _ in choices}


class NewReferralForm(FormScreen):
    FORM_TITLE = "New referral"
    AUTO_FOCUS = "#nr-name"
    COMMAND_GROUP = "referral"

    def __init__(self, partner: tuple[int, str] | None = None) -> None:
        """``partner``: (id, name) of the referring partner to start with."""
        super().__init__()
        self.partner = partner
        self.labels: dict[str, int] = {}

    def fields(self) -> ComposeResult:
        yield from field("Patient name", Input(id="nr-name"))
        yield from field("Date of birth (YYYY-MM-DD or MM/DD/YYYY)", Input(id="nr-birth"))
        yield from field("Record number", Input(id="nr-record"))
        yield from field("Referred by (type part of a name, → completes; blank: self-referred)",
                         OrderedInput(self.partner[1] if self.partner else "", id="nr-partner"))
        yield from field("Referral date", Input(self.today.isoformat(), id="nr-date"))
        yield from field("Body region", Select([(r, r) for r in vocab.BODY_REGIONS.values],
                                               prompt="choose a region", type_to_search=True,
                                               id="nr-region"))
        yield from field("Diagnosis (ICD-10, optional)", Input(id="nr-diagnosis"))
        from outcomes.measures.conditions import conditions

        tables = conditions()
        yield from field("After surgery", Select(
            [("yes", "yes"), ("no", "no")], prompt="not recorded", id="nr-surgical"))
        yield from field("Procedure (optional; type, → completes: TKA, total hip, ACL...)",
                         OrderedInput(id="nr-procedure", suggester=SuggestFromList(
                             tables.procedure_words(), case_sensitive=False)))
        yield from field("Primary measure (blank: the region's)", Select(
            [(i.upper().replace("_", " "), i) for i in tables.primary_choices()],
            prompt="by region", type_to_search=True, id="nr-measure"))
        yield from field("Episode id", Input(id="nr-episode"))

    def on_mount(self) -> None:
        super().on_mount()
        self.load_choices()


    @work(thread=True, exclusive=True, group="referral-form", exit_on_error=False)
    def load_choices(self) -> None:
        from outcomes.network.referrals import suggest_episode_id
        from outcomes.reports.partners import partner_choices

        db = app_of(self).db()
        self.post_message(PartnerChoicesLoaded(partner_choices(db)))
        self.post_message(EpisodeIdSuggested(suggest_episode_id(db)))

    def on_partner_choices_loaded(self, message: PartnerChoicesLoaded) -> None:
        message.stop()
        self.labels = choice_labels(message.choices)
        self.query_one("#nr-partner", Input).suggester = PartOfName(list(self.labels))

    @on(Input.Changed, "#nr-partner")
    def partner_typed(self, event: Input.Changed) -> None:
        name = accepted(event.value)
        if name is not None:
            event.input.value = name
            event.input.cursor_position = len(name)

    def on_episode_id_suggested(self, message: EpisodeIdSuggested) -> None:
        message.stop()
        box = self.query_one("#nr-episode", Input)
        if not box.value:
            box.value = message.episode_id
            # A suggestion is not something the user typed: Escape still closes at once.
            self._initial["nr-episode"] = message.episode_id

    def partner_id(self) -> int | None:
        text = self.value("#nr-partner")
        if not text:
            return None
        if self.partner and text == self.partner[1]:
            return self.partner[0]
        for label, pid in self.labels.items():
            if label.casefold() == text.casefold():
                return pid
        # Never a guess: part of a name is refused, with the names it could mean.
        close = sorted(label for label in self.labels if text.casefold() in label.casefold())
        hint = f" (did you mean {'; '.join(close[:3])}{'…' if len(close) > 3 else ''}?)" \
            if close else ""
        raise ValidationError(f"No partner is named {text!r}{hint}. Type the name (→ completes "
                              "it), or leave it blank for self-referred.")

    def prepare(self) -> Any:
        region = self.query_one("#nr-region", Select).value
        surgical = self.query_one("#nr-surgical", Select).value
        measure = self.query_one("#nr-measure", Select).value
        return {
            "id": self.value("#nr-episode"),
            "patient_name": self.value("#nr-name"),
            "birth_date": self.value("#nr-birth"),
            "patient_record_number": self.value("#nr-record"),
            "partner_id": self.partner_id(),
            "referral_date": self.value("#nr-date"),
            "body_region": None if region is Select.NULL else str(region),
            "diagnosis": self.value("#nr-diagnosis"),
            "procedure": self.value("#nr-procedure"),
            "surgical": None if surgical is Select.NULL else surgical == "yes",
            "instrument": None if measure is Select.NULL else str(measure),
        }

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.network.referrals import record_referral

        saved = record_referral(db, job, today=self.today)
        return RecordSaved(saved.message())
