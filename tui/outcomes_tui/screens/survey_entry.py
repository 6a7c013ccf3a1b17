"""Survey entry, the core workflow: pick episode, instrument and timepoint, type one digit per
item, Enter saves. Built from the instrument definitions in ``surveys/``."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, Select, Static

from outcomes.dates import parse_date
from outcomes.errors import OutcomesError
from outcomes.measures import catalog, scoring
from outcomes.measures.instruments import Instrument
from outcomes.measures.responses import TIMEPOINTS
from outcomes.reports.episodes import (
    REGION_INSTRUMENT,
    EpisodeDetail,
    default_instrument,
    episode_detail,
    next_timepoint,
)
from outcomes_tui.context import app_of
from outcomes_tui.feedback import plain_error
from outcomes_tui.forms.confirm import ConfirmScreen
from outcomes_tui.messages import EpisodeLoaded, ResponseSaved, SaveFailed
from outcomes_tui.widgets.survey_items import SurveyItems

NPS = "nps"


class SurveyEntryScreen(Screen[None]):
    CSS_PATH = "survey_entry.tcss"
    COMMAND_GROUP = "survey"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "save", "Save", id="survey.save",
                tooltip="Save the response (Enter in the episode field loads the episode)"),
        Binding("escape", "back", "Back", id="survey.cancel",
                tooltip="Leave the form without saving"),
        Binding("ctrl+n", "clear", "Clear", id="survey.clear",
                tooltip="Clear every answer and start again"),
    ]

    def __init__(self, episode_id: str | None = None) -> None:
        super().__init__()
        self.episode_id = episode_id
        self.detail: EpisodeDetail | None = None
        self.instruments: dict[str, Instrument] = catalog.instruments()
        self.saving = False

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
                    yield Select([(t, t) for t in TIMEPOINTS], value="intake",
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
        yield Footer()

    def _today(self) -> date:
        return app_of(self).today

    def on_mount(self) -> None:
        self.query_one("#comment", Input).display = False
        if self.episode_id:
            self.query_one("#items", SurveyItems).focus()
            self.load_episode(self.episode_id)
        else:
            self.query_one("#episode", Input).focus()

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
            f" · {e['status']}",
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
            self.post_message(SaveFailed(str(exc)))
            return
        except Exception as exc:  # a locked or read-only file: say so, keep the answers
            self.post_message(SaveFailed(plain_error(exc)))
            return
        self.post_message(ResponseSaved(text, episode_id))

    def on_save_failed(self, message: SaveFailed) -> None:
        self.saving = False
        self.query_one("#refusal", Static).update(message.text)
        if message.needs_confirmation == "replace":
            def answered(yes: bool | None) -> None:
                if yes:
                    self.action_save(replace=True)

            self.app.push_screen(ConfirmScreen(
                f"{message.text}\n\nReplace the stored response with these answers?",
                yes="replace it", no="keep the stored one"), answered)

    def on_response_saved(self, message: ResponseSaved) -> None:
        self.saving = False
        self.app.notify(escape(message.text), title="Saved", timeout=8)
        self.app.pop_screen()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_clear(self) -> None:
        items = self.query_one("#items", SurveyItems)
        if items.instrument is not None:
            items.set_instrument(items.instrument)
            items.focus()
