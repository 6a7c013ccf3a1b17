"""Survey entry, the core workflow: pick episode, instrument and timepoint, type one digit per
item, Enter saves. Built from the instrument definitions in ``surveys/``.

Built for entering paper forms: the digit grid keeps the focus; F8, F9 and F10 (or alt+i, alt+t,
alt+n) reach the instrument, the timepoint and NPS in one key and hand the focus back to the grid;
digits typed anywhere outside a text field go to the grid. Nothing typed is lost on a slip: Escape
and the app's mode keys ask before discarding answers (``has_unsaved_input``)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from rich.markup import escape
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Input, Label, Select, Static

from outcomes.dates import parse_date
from outcomes.errors import OutcomesError
from outcomes.measures import catalog, scoring
from outcomes.measures.instruments import Instrument
from outcomes.measures.responses import TIMEPOINTS
from outcomes.network.referrals import status_label
from outcomes.reports.episodes import (
    REGION_INSTRUMENT,
    EpisodeDetail,
    default_instrument,
    episode_detail,
    next_timepoint,
)
from outcomes_tui.context import app_of
from outcomes_tui.feedback import plain_error
from outcomes_tui.forms.confirm import ConfirmScreen, ReplaceOrAmendScreen
from outcomes_tui.guard import LeaveScreen
from outcomes_tui.internals import footer_key_class
from outcomes_tui.messages import EpisodeLoaded, RecordSaved, ResponseSaved, SaveFailed
from outcomes_tui.widgets.footer import KeysFooter
from outcomes_tui.widgets.survey_items import SurveyItems

NPS = "nps"
NOT_YET_SEEN = ("received", "scheduled")
"""Referral statuses on which a saved intake offers to record the first visit."""


class SurveyFooter(KeysFooter):
    """The form's own keys only: the screen-switching keys still work (and ask first when
    answers are typed), but they are listed in the help (F1), not here."""

    def compose(self) -> ComposeResult:
        key_class = footer_key_class()
        keys = [widget for widget in super().compose()
                if not (isinstance(widget, key_class)
                        and str(getattr(widget, "action", "")).startswith(("go(", "survey")))]
        self.styles.grid_size_columns = len(keys)
        yield from keys


class SurveyEntryScreen(Screen[None]):
    CSS_PATH = "survey_entry.tcss"
    COMMAND_GROUP = "survey"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,ctrl+s", "save", "Save", id="survey.save",
                tooltip="Save the response (Enter in the episode field loads the episode)"),
        Binding("escape", "back", "Back", id="survey.cancel",
                tooltip="Leave the form (asks first when answers are typed)"),
        Binding("ctrl+n", "clear", "Clear", id="survey.clear", show=False,
                tooltip="Clear every answer and start again"),
        Binding("f8,alt+i", "pick('instrument')", "Instrument", id="survey.instrument",
                tooltip="Choose the instrument from a list (type to search)"),
        Binding("f9,alt+t", "pick('timepoint')", "Timepoint", id="survey.timepoint",
                tooltip="Choose the timepoint: intake, progress, discharge, follow-up"),
        Binding("f10,alt+n", "nps", "NPS", id="survey.nps",
                tooltip="Switch to the NPS question (again: back to the outcome measure)"),
    ]

    def __init__(self, episode_id: str | None = None) -> None:
        super().__init__()
        self.episode_id = episode_id
        self.detail: EpisodeDetail | None = None
        self.instruments: dict[str, Instrument] = catalog.instruments()
        self.saving = False
        self.saved = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="form", classes="panel") as form:
            form.border_title = "Enter a survey"
            with Horizontal(id="pickers"):
                with Vertical(classes="picker"):
                    yield Label("Episode", classes="muted")
                    yield Input(self.episode_id or "", placeholder="episode id, e.g. E00042",
                                id="episode")
                with Vertical(classes="picker"):
                    yield Label("Instrument", classes="muted")
                    yield Select(
                        [(f"{i.id} · {i.name}", i.id) for i in self.instruments.values()],
                        prompt="instrument", id="instrument",
                    )
                with Vertical(classes="picker"):
                    yield Label("Timepoint", classes="muted")
                    yield Select([(t.replace("_", "-"), t) for t in TIMEPOINTS], value="intake",
                                 allow_blank=False, id="timepoint")
                with Vertical(classes="picker narrow"):
                    yield Label("Date", classes="muted")
                    yield Input(self._today().isoformat(), id="date")
            yield Static("", id="episode-info", markup=False)
            with VerticalScroll(id="items-box"):
                yield SurveyItems(id="items")
            yield Input(placeholder="comment (optional)", id="comment")
            yield Static("", id="refusal", markup=False)
            yield Static("", id="score", markup=False)
        yield SurveyFooter()

    def _today(self) -> date:
        return app_of(self).today

    def on_mount(self) -> None:
        self.query_one("#comment", Input).display = False
        if self.episode_id:
            self.query_one("#items", SurveyItems).focus()
            self.load_episode(self.episode_id)
        else:
            # At once, not on the next turn of the loop: the episode id is often typed
            # straight after the key that opened the form.
            self.set_focus(self.query_one("#episode", Input))

    # --- episode -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="survey-episode", exit_on_error=False)
    def load_episode(self, episode_id: str) -> None:
        app = app_of(self)
        self.post_message(EpisodeLoaded(episode_detail(app.reader(), episode_id)))

    def on_episode_loaded(self, message: EpisodeLoaded) -> None:
        detail: EpisodeDetail = message.detail
        self.detail = detail
        self.episode_id = detail.episode["id"]
        e = detail.episode
        self.query_one("#episode-info", Static).update(Text.assemble(
            (f"{detail.patient or '(no name)'}", "bold"), f" · {detail.record_number}",
            f" · {e['body_region']} · referred {e['referral_date']}",
            f" by {detail.partner}" if detail.partner else " (self-referred)",
            f" · {status_label(e['status'])}",
            f" · {len(detail.responses)} responses on file",
        ))
        instrument_id = default_instrument(detail, REGION_INSTRUMENT)
        if instrument_id not in self.instruments:
            instrument_id = next(iter(self.instruments))
        self._use_instrument(instrument_id)
        select = self.query_one("#instrument", Select)
        with select.prevent(Select.Changed):
            select.value = instrument_id
        self.query_one("#items", SurveyItems).focus()

    @on(Input.Submitted, "#episode")
    def episode_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            self.load_episode(text)

    @on(Input.Submitted, "#comment")
    @on(Input.Submitted, "#date")
    def field_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def has_unsaved_input(self) -> bool:
        """Answers, a pending 1, keys typed before the episode loaded, or a comment."""
        if self.saved or not self.is_mounted:
            return False
        items = self.query_one("#items", SurveyItems)
        return (items.pending_one or bool(items.queued)
                or any(c.state != "empty" for c in items.cells)
                or bool(self.query_one("#comment", Input).value.strip()))

    def _answered(self) -> int:
        return sum(c.state != "empty" for c in self.query_one("#items", SurveyItems).cells)

    def _use_instrument(self, instrument_id: str) -> None:
        instrument = self.instruments[instrument_id]
        is_nps = instrument_id == NPS
        self.query_one("#comment", Input).display = is_nps
        self.query_one("#timepoint", Select).disabled = is_nps
        if self.detail is not None and not is_nps:
            timepoint = next_timepoint(self.detail, instrument_id)
            select = self.query_one("#timepoint", Select)
            with select.prevent(Select.Changed):
                select.value = timepoint
        self.query_one("#items", SurveyItems).set_instrument(instrument)

    @on(Select.Changed, "#instrument")
    def instrument_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._use_instrument(event.value)
        self._back_to_grid(event.select)

    @on(Select.Changed, "#timepoint")
    def timepoint_changed(self, event: Select.Changed) -> None:
        self._back_to_grid(event.select)

    def _back_to_grid(self, select: Widget) -> None:
        """After the user picked from a list, the grid has the focus again. Only then: the
        lists also post Changed when they are set up, and the episode field keeps the focus."""
        if select.has_focus_within:
            self.set_focus(self.query_one("#items", SurveyItems))

    def action_pick(self, which: str) -> None:
        select = self.query_one(f"#{which}", Select)
        if select.disabled:
            self.notify("NPS has no timepoint; F10 goes back to the outcome measure.",
                        severity="warning")
            return
        select.focus()
        select.expanded = True

    def action_nps(self) -> None:
        """One key to NPS and back. Typed answers belong to the other instrument: ask first."""
        select = self.query_one("#instrument", Select)
        if select.value == NPS:
            target = (default_instrument(self.detail, REGION_INSTRUMENT)
                      if self.detail is not None else next(iter(self.instruments)))
            if target not in self.instruments or target == NPS:
                target = next(i for i in self.instruments if i != NPS)
        else:
            target = NPS

        def switch(discard: bool | None = True) -> None:
            if discard:
                select.value = target  # Select.Changed sets the grid up
                self.query_one("#items", SurveyItems).focus()

        if self._answered():
            self.app.push_screen(LeaveScreen(
                f"{self._answered()} answers are typed for {select.value}.\n\n"
                f"Discard them and switch to {target}?"), switch)
        else:
            switch()

    def on_key(self, event: events.Key) -> None:
        """Keys that would otherwise vanish. A text field stops every printable key it sees, so
        one that reaches the screen was typed before the focus got there (an episode id typed
        right after `s`): it goes into that field, or into the episode field when nothing has
        the focus yet. Digits typed while a picker has the focus go to the grid, so answers
        typed after leaving the timepoint list are never lost."""
        focused = self.focused
        character = event.character
        if not character or not event.is_printable:
            return
        if focused is None and self.detail is None:
            focused = self.query_one("#episode", Input)
            self.set_focus(focused)
        if isinstance(focused, Input):
            event.stop()
            event.prevent_default()
            focused.insert_text_at_cursor(character)
            return
        if (character.isdigit() and character.isascii()
                and not isinstance(focused, SurveyItems)):
            items = self.query_one("#items", SurveyItems)
            if isinstance(focused, Select) and focused.expanded:
                return
            event.stop()
            event.prevent_default()
            self.set_focus(items)
            items.type_key(character)

    # --- live score --------------------------------------------------------------------------

    def on_survey_items_changed(self, message: SurveyItems.Changed) -> None:
        items = message.items
        self.query_one("#refusal", Static).update(items.refusal)
        score = self.query_one("#score", Static)
        if items.instrument is None:
            score.update("")
            return
        answers = items.answers()
        answered = sum(a is not None for a in answers)
        try:
            result = scoring.score(items.instrument, answers)
        except OutcomesError as exc:
            score.update(Text(str(exc), style="dim"))
            return
        parts = []
        for scale_id, value in result.scores.items():
            scale = items.instrument.scales[scale_id]
            if value is None:
                parts.append(f"{scale.name}: not scorable")
            else:
                band = scale.band(value)
                parts.append(f"{scale.name}: {value:.1f}" + (f" ({band})" if band else ""))
        if result.category:
            parts.append(result.category)
        status = "scorable" if result.scorable else (result.reason or "not scorable")
        score.update(Text.assemble(
            (" · ".join(parts), "bold"),
            f"\n{answered} of {len(items.cells)} answered · ",
            (status, "" if result.scorable else "italic"),
        ))

    # --- saving ------------------------------------------------------------------------------

    def action_save(self, replace: bool = False) -> None:
        items = self.query_one("#items", SurveyItems)
        items.confirm_pending()
        refusal = self.query_one("#refusal", Static)
        episode_text = self.query_one("#episode", Input).value.strip()
        if self.detail is None and episode_text:
            self.load_episode(episode_text)  # Enter on an id not loaded yet: load it
            return
        if self.detail is None or items.instrument is None:
            refusal.update("Load an episode first: type its id and press Enter.")
            self.query_one("#episode", Input).focus()
            return
        if not items.complete():
            missing = [str(i + 1) for i, c in enumerate(items.cells) if c.state == "empty"]
            refusal.update(f"Item {', '.join(missing)} not answered yet: type a digit, or - to "
                           "mark it skipped.")
            items.cursor = int(missing[0]) - 1
            items.focus()
            return
        try:
            when = parse_date(self.query_one("#date", Input).value, reference=self._today())
        except OutcomesError as exc:
            refusal.update(str(exc))
            return
        if self.saving:
            return
        self.saving = True
        self.save(
            self.detail.episode["id"], items.instrument.id,
            str(self.query_one("#timepoint", Select).value), items.answers(), when,
            self.query_one("#comment", Input).value, replace,
        )

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def save(self, episode_id: str, instrument_id: str, timepoint: str,
             answers: list[int | None], when: date, comment: str,
             replace: bool = False) -> None:
        from outcomes.measures.nps import save_nps
        from outcomes.measures.responses import ResponseExists, save_response

        app = app_of(self)
        try:
            db = app.db()
            if instrument_id == NPS:
                saved_nps = save_nps(db, {"episode_id": episode_id, "date": when,
                                          "score": answers[0], "comment": comment},
                                     today=app.today)
                text = saved_nps.message()
            else:
                text = save_response(db, episode_id, instrument_id, timepoint, answers, when,
                                     replace=replace).message()
        except ResponseExists as exc:
            self.post_message(SaveFailed(str(exc), "replace"))
            return
        except OutcomesError as exc:
            self.post_message(SaveFailed(plain_error(exc)))
            return
        except Exception as exc:  # a locked or read-only file: say so, keep the answers
            self.post_message(SaveFailed(plain_error(exc)))
            return
        self.post_message(ResponseSaved(text, episode_id))

    def on_save_failed(self, message: SaveFailed) -> None:
        self.saving = False
        self.query_one("#refusal", Static).update(message.text)
        if message.needs_confirmation == "replace":
            def answered(choice: str | None) -> None:
                if choice == "replace":
                    self.action_save(replace=True)
                elif choice == "amend":
                    self.amend()

            self.app.push_screen(ReplaceOrAmendScreen(
                f"{message.text}\n\nReplace the stored response with these answers, or amend "
                "it with the reason?"), answered)

    def amend(self) -> None:
        """The reason first (a form); the amendment is then saved through the core."""
        from outcomes_tui.forms.amend import AmendForm, Amendment

        items = self.query_one("#items", SurveyItems)
        if self.detail is None or items.instrument is None:
            return
        try:
            when = parse_date(self.query_one("#date", Input).value, reference=self._today())
        except OutcomesError as exc:
            self.query_one("#refusal", Static).update(str(exc))
            return
        amendment = Amendment(str(self.detail.episode["id"]), items.instrument.id,
                              str(self.query_one("#timepoint", Select).value), items.answers(),
                              when)

        def done(saved: bool | None) -> None:
            if saved:
                self.saved = True
                self.dismiss_screen()

        self.app.push_screen(AmendForm(amendment), done)

    def on_response_saved(self, message: ResponseSaved) -> None:
        self.saving = False
        self.saved = True
        self.app.notify(escape(message.text), title="Saved", timeout=8)
        detail = self.detail
        timepoint = str(self.query_one("#timepoint", Select).value)
        if (detail is None or str(self.query_one("#instrument", Select).value) == NPS
                or timepoint != "intake" or detail.episode["status"] not in NOT_YET_SEEN):
            self.dismiss_screen()
            return
        when = self.query_one("#date", Input).value.strip()
        status = str(detail.episode["status"])

        def answered(record: bool | None) -> None:
            if record:
                self.record_first_visit(message.episode_id, when)
            else:
                self.dismiss_screen()

        self.app.push_screen(ConfirmScreen(
            f"Referral {message.episode_id} is {status}, but an intake was just entered.\n\n"
            f"Record the first visit (evaluated) on {when}?",
            yes="record the first visit", no="leave the referral as it is"), answered)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def record_first_visit(self, episode_id: str, when: str) -> None:
        from outcomes.network.referrals import evaluate

        app = app_of(self)
        try:
            saved = evaluate(app.db(), episode_id, when, today=app.today)
        except OutcomesError as exc:
            self.post_message(RecordSaved("", warning=str(exc)))
            return
        except Exception as exc:  # a locked or read-only file: say so
            self.post_message(RecordSaved("", warning=plain_error(exc)))
            return
        self.post_message(RecordSaved(f"{saved.message()} First visit {when}."))

    def on_record_saved(self, message: RecordSaved) -> None:
        if message.warning:
            self.app.notify(escape(message.warning), title="First visit not recorded",
                            severity="warning", timeout=12)
        else:
            self.app.notify(escape(message.text), title="Saved")
        self.dismiss_screen()

    def dismiss_screen(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    def action_back(self) -> None:
        """Escape: leave at once when nothing is typed, else ask (Enter keeps the answers)."""
        if not self.has_unsaved_input():
            self.app.pop_screen()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss_screen()

        self.app.push_screen(LeaveScreen(
            f"{self._answered()} answers typed on this form are not saved.\n\n"
            "Discard them and leave the survey?"), answered)

    def action_clear(self) -> None:
        items = self.query_one("#items", SurveyItems)
        if items.instrument is not None:
            items.set_instrument(items.instrument)
            items.focus()
