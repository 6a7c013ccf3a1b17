"""Log a touchpoint with a partner. The gift/meal limit is the core's: a warning as the amount
is typed (``spend_preview``), and a refusal over the limit that the user may confirm."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Input, Label, Select, Static

from outcomes import vocab
from outcomes.errors import OutcomesError
from outcomes_tui.context import app_of
from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved, SpendChecked


class TouchpointForm(FormScreen):
    FORM_TITLE = "Log touchpoint"
    AUTO_FOCUS = "#tp-summary"
    COMMAND_GROUP = "touchpoint"
    CONFIRM_QUESTION = "Record it anyway (over the yearly limit)?"

    def __init__(self, partner_id: int, partner: str) -> None:
        super().__init__()
        self.partner_id = partner_id
        self.partner = partner

    def fields(self) -> ComposeResult:
        yield Label(self.partner, markup=False)
        yield from field("Date", Input(self.today.isoformat(), id="tp-date"))
        yield from field("Method", Select([(m, m) for m in vocab.TOUCH_METHODS.values],
                                          value="phone", allow_blank=False, id="tp-method"))
        yield from field("Who (their side)", Input(id="tp-who"))
        yield from field("Summary", Input(id="tp-summary"))
        yield from field("Gift or meal amount ($, optional)", Input(id="tp-amount",
                                                                   type="number"))
        yield from field("Next follow-up (optional)", Input(id="tp-next"))


    @on(Input.Changed, "#tp-amount")
    def amount_changed(self, event: Input.Changed) -> None:
        try:
            amount = float(event.value) if event.value.strip() else 0.0
        except ValueError:
            return
        if amount > 0:
            self.check_spend(amount)
        else:
            self.query_one("#form-note", Static).update("")

    @work(thread=True, exclusive=True, group="spend-check", exit_on_error=False)
    def check_spend(self, amount: float) -> None:
        from outcomes.network.touchpoints import spend_preview

        check = spend_preview(app_of(self).db(), self.partner_id, amount, self.today)
        self.post_message(SpendChecked(check.message(self.partner), check.status))

    def on_spend_checked(self, message: SpendChecked) -> None:
        message.stop()
        note = self.query_one("#form-note", Static)
        note.update("" if message.status == "ok" else f"Warning: {message.text}")

    def prepare(self) -> Any:
        return {
            "date": self.value("#tp-date"), "method": self.choice("#tp-method"),
            "who": self.value("#tp-who"), "summary": self.value("#tp-summary"),
            "amount": self.value("#tp-amount"), "next_follow_up": self.value("#tp-next"),
        }

    def needs_confirmation(self, exc: OutcomesError) -> bool:
        from outcomes.network.touchpoints import SpendLimitExceeded

        return isinstance(exc, SpendLimitExceeded)

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.network.touchpoints import log_touchpoint

        logged = log_touchpoint(db, self.partner_id, job, today=self.today,
                                confirm_over_limit=confirmed)
        return RecordSaved(logged.message(), logged.warning)
