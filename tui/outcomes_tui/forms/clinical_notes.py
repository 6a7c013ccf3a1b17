"""Enter an episode's clinical content: what the letters to the referrer are made from
(``outcomes.network.clinical.update_clinical``, the same call as ``outcomes referrals
update``). Text is stored as typed and shown as typed (inputs never read markup)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved

# (column, label, input id): one input each, prefilled with what is on file.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("referral_question", "Referral question", "cn-question"),
    ("onset_date", "Date of onset", "cn-onset"),
    ("chief_complaint", "Chief complaint", "cn-complaint"),
    ("history", "Relevant history", "cn-history"),
    ("findings", "Objective findings", "cn-findings"),
    ("diagnosis", "Diagnosis (ICD-10-CM code)", "cn-diagnosis"),
    ("treatment", "Treatment given", "cn-treatment"),
    ("plan", "Plan of care", "cn-plan"),
    ("plan_frequency", "Frequency (e.g. 2x/week)", "cn-frequency"),
    ("plan_duration", "Duration (e.g. 6 weeks)", "cn-duration"),
    ("plan_interventions", "Interventions", "cn-interventions"),
    ("precautions", "Precautions", "cn-precautions"),
    ("physician_follow_up", "Next visit to the physician", "cn-follow-up"),
    ("poc_sent_date", "Plan of care sent on", "cn-poc-sent"),
    ("poc_certified_date", "Plan of care certified on", "cn-poc-certified"),
)
CERTIFIED_BY = [("signed plan returned", "signed"), ("order on file", "order_on_file")]


class ClinicalNotesForm(FormScreen):
    FORM_TITLE = "Clinical notes"
    AUTO_FOCUS = "#cn-question"
    COMMAND_GROUP = "patient"

    def __init__(self, episode_id: str, current: Mapping[str, Any]) -> None:
        super().__init__()
        self.episode_id = episode_id
        self.current = current

    def fields(self) -> ComposeResult:
        yield Label(f"Episode {self.episode_id}: blank fields are left as they are",
                    markup=False)
        for column, label, widget_id in FIELDS:
            value = self.current.get(column)
            yield from field(label, Input("" if value is None else str(value), id=widget_id))
        yield from field("Certified by", Select(
            CERTIFIED_BY, value=self.current.get("poc_certified_by") or Select.NULL,
            id="cn-certified-by"))
        yield from field("Add a goal (TEXT|TARGET DATE|STATUS)", Input(id="cn-goal"))
        yield from field("Goal status changes (GOAL_ID=met, comma-separated)",
                         Input(id="cn-goal-status"))


    def prepare(self) -> Any:
        from outcomes.network.clinical import parse_goal, parse_goal_status

        values: dict[str, str | None] = {column: self.query_one(f"#{widget_id}", Input).value
                                          for column, _label, widget_id in FIELDS}
        how = self.query_one("#cn-certified-by", Select).value
        values["poc_certified_by"] = None if how is Select.NULL else str(how)
        goal = self.value("#cn-goal")
        statuses = [s for s in self.value("#cn-goal-status").split(",") if s.strip()]
        return (values, [parse_goal(goal)] if goal else [],
                dict(parse_goal_status(s) for s in statuses))

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.network.clinical import update_clinical

        values, goals, statuses = job
        saved = update_clinical(db, self.episode_id, values, goals=goals, goal_status=statuses,
                                today=self.today)
        return RecordSaved(saved.message())
