"""Change a referral's status: scheduled (date), evaluated (first visit), in care, discharged
(date, visits, reason), not scheduled or cancelled (reason), or reopened (reason). The picker
offers only the moves the core allows from the current status (``allowed_moves``); the fields
follow the move picked; a refusal from the core shows in the form with the input kept."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from outcomes import vocab
from outcomes.errors import ValidationError
from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved

DATE_LABEL = {
    "scheduled": "Scheduled for",
    "evaluated": "First visit date",
    "in_care": "First visit date",
    "discharged": "Discharge date",
}
"""The date each move asks for (none for the moves that end or reopen a referral)."""
DATE_FIELD = {"scheduled": "scheduled_date", "evaluated": "first_visit_date",
              "in_care": "first_visit_date", "discharged": "discharge_date"}
REASON_MOVES = ("not_scheduled", "cancelled", "reopen")


def reason_label(reason: str) -> str:
    return reason.replace("_", " ")


class ReferralStatusForm(FormScreen):
    FORM_TITLE = "Change referral status"
    AUTO_FOCUS = "#rs-move"
    COMMAND_GROUP = "referral"

    def __init__(self, episode: dict[str, Any], patient: str | None = None) -> None:
        """``episode``: the stored episode row (id, status, dates)."""
        super().__init__()
        self.episode = episode
        self.patient = patient

    def fields(self) -> ComposeResult:
        from outcomes.network.referrals import allowed_moves, move_label, status_label

        e = self.episode
        who = f"{self.patient} · " if self.patient else ""
        yield Label(f"{who}episode {e['id']} · now {status_label(e['status'])}", markup=False)
        moves = allowed_moves(e["status"])
        yield from field("Change to", Select([(move_label(m), m) for m in moves],
                                             value=moves[0], allow_blank=False,
                                             id="rs-move"))
        yield from field("Date", Input(id="rs-date", placeholder="YYYY-MM-DD"))
        yield from field("First visit date (none on file yet)",
                         Input(id="rs-first", placeholder="YYYY-MM-DD"))
        yield from field("Visits", Input(id="rs-visits", type="integer"))
        yield from field("Discharge reason", Select(
            [(reason_label(r), r) for r in vocab.DISCHARGE_REASONS.values],
            prompt="choose a reason", id="rs-discharge-reason"))
        yield from field("Reason", Input(id="rs-reason"))

    def on_mount(self) -> None:
        super().on_mount()
        self.show_fields(self.choice("#rs-move"))


    @on(Select.Changed, "#rs-move")
    def move_changed(self, event: Select.Changed) -> None:
        self.show_fields(str(event.value))

    def _show(self, selector: str, visible: bool, label: str | None = None) -> None:
        widget = self.query_one(selector)
        widget.display = visible
        title = widget.parent.children[widget.parent.children.index(widget) - 1] \
            if widget.parent else None
        if isinstance(title, Label):
            title.display = visible
            if label:
                title.update(label)

    def needs_first_visit(self, move: str) -> bool:
        """Discharging a referral with no first visit on file asks for that date too."""
        return move == "discharged" and not self.episode.get("first_visit_date")

    def asks_date(self, move: str) -> bool:
        # "in care" keeps the first visit on file; it asks for one only when there is none.
        return move in DATE_LABEL and not (move == "in_care"
                                           and self.episode.get("first_visit_date"))

    def show_fields(self, move: str) -> None:
        self._show("#rs-date", self.asks_date(move), DATE_LABEL.get(move))
        self._show("#rs-first", self.needs_first_visit(move))
        self._show("#rs-visits", move == "discharged")
        self._show("#rs-discharge-reason", move == "discharged")
        self._show("#rs-reason", move in REASON_MOVES,
                   "Why is it reopened?" if move == "reopen" else "Reason")

    def prepare(self) -> Any:
        move = self.choice("#rs-move")
        if move == "reopen":
            return {"move": move, "reason": self.value("#rs-reason")}
        changes: dict[str, Any] = {"status": move}
        if self.asks_date(move):
            when = self.value("#rs-date")
            if not when:
                raise ValidationError(f"{DATE_LABEL[move]}: a date is required "
                                      "(YYYY-MM-DD or MM/DD/YYYY).")
            changes[DATE_FIELD[move]] = when
        if self.needs_first_visit(move):
            changes["first_visit_date"] = self.value("#rs-first")
        if move == "discharged":
            changes["visits"] = self.value("#rs-visits")
            reason = self.query_one("#rs-discharge-reason", Select).value
            changes["discharge_reason"] = None if reason is Select.NULL else str(reason)
        if move in REASON_MOVES:
            changes["status_reason"] = self.value("#rs-reason")
        return {"move": move, "changes": changes}

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.network.referrals import reopen, update_referral

        episode_id = str(self.episode["id"])
        if job["move"] == "reopen":
            saved = reopen(db, episode_id, reason=job["reason"])
        else:
            saved = update_referral(db, episode_id, job["changes"], today=self.today)
        return RecordSaved(saved.message())
