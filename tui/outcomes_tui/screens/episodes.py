"""Patients / episodes: find an episode by record number, name or id; see its referral,
responses with scores, an outcome trajectory, NPS and letters sent."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from outcomes.network.referrals import status_label
from outcomes.reports.episodes import EpisodeDetail, episode_detail, find_episodes
from outcomes.reports.labels import scale_labels
from outcomes.text import one_line
from outcomes_tui.context import app_of
from outcomes_tui.messages import EpisodeLoaded, EpisodesFound
from outcomes_tui.widgets.footer import KeysFooter
from outcomes_tui.widgets.inputs import OrderedInput
from outcomes_tui.widgets.plot import Plot, Series

LIMIT = 50


class SearchInput(OrderedInput):
    """The patient search box (its editing keys in the order typed: ``OrderedInput``)."""


class EpisodesScreen(Screen[None]):
    CSS_PATH = "episodes.tcss"
    COMMAND_GROUP = "patient"
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: runs before the next key is routed, so a name typed right after `/` lands
        # in the search box, not on the table (where its letters were lost or ran bindings).
        Binding("slash", "focus_search", "Find", id="episodes.find", priority=True,
                tooltip="Find by record number, patient name or episode id"),
        # priority too, for the same reason: handled when the key arrives, not after travelling
        # through the search box, so the `/` and name of a burst that follows do not see the
        # focus leave the box under them. Only while the box has the focus (check_action): on
        # the table, down moves the cursor.
        Binding("down,escape", "focus_table", "Results", show=False, id="episodes.to_table",
                priority=True, tooltip="Move from the search box into the results"),
        Binding("s", "survey", "Enter survey", id="episodes.survey",
                tooltip="Enter a survey for the selected episode"),
        Binding("l", "letter", "Make letter", id="episodes.letter",
                tooltip="Make a progress update or discharge summary for the referrer (PDF or"
                        " Markdown) and record it as sent"),
        # Forms for the daily writes (new referral, status changes); actions at the end. ctrl+n
        # works from the search box too, where letters type.
        Binding("n,ctrl+n", "new_referral", "New referral", id="episodes.new_referral",
                tooltip="Record a new referral (patient, referrer, date, region, diagnosis)"),
        Binding("c", "change_status", "Change status", id="episodes.change_status",
                tooltip="Schedule, evaluate, discharge, close or reopen the selected referral"),
        Binding("ctrl+e", "clinical_notes", "Clinical notes", id="episodes.clinical_notes",
                tooltip="Enter the selected episode's findings, plan of care, goals and "
                        "certification (what letters are made from)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0
        self.ids: list[str] = []
        self.detail: EpisodeDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield SearchInput(placeholder="Find a patient: record number, name or episode id…",
                          id="search")
        with Horizontal(id="body"):
            yield DataTable(id="episodes", cursor_type="row", zebra_stripes=True,
                            classes="panel")
            with Vertical(id="detail", classes="panel") as detail:
                detail.border_title = "Episode"
                yield Static("Select an episode.", id="episode-info", markup=False)
                yield DataTable(id="responses", cursor_type="row", show_cursor=False)
                yield Plot("Outcome trajectory", id="trajectory")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#episodes", DataTable)
        table.add_columns("Episode", "Record", "Patient", "Referred", "Status")
        self.query_one("#responses", DataTable).add_columns("Date", "Measure", "Timepoint",
                                                             "Score")
        self.query_one("#search", Input).focus()
        self.search("")

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.action_focus_table()

    def search(self, text: str) -> None:
        self.generation += 1
        self.find(text, self.generation)

    @work(thread=True, exclusive=True, group="episodes", exit_on_error=False)
    def find(self, text: str, generation: int) -> None:
        app = app_of(self)
        self.post_message(EpisodesFound(find_episodes(app.reader(), text, LIMIT), generation))

    def on_episodes_found(self, message: EpisodesFound) -> None:
        if message.generation != self.generation:
            return
        table = self.query_one("#episodes", DataTable)
        self.ids = [r.id for r in message.rows]
        # The pane shows the highlighted row of these results, or nothing: never a patient
        # from an earlier search (whom `l` would then write to).
        self.detail = None
        if not message.rows:
            self._clear_pane("No episode matches this search.")
        with self.app.batch_update():
            table.clear()
            for r in message.rows:
                table.add_row(Text(r.id), Text(r.record_number), Text(r.patient or ""),
                              Text(r.referral_date), Text(status_label(r.status)), key=r.id)
        more = "+" if len(message.rows) == LIMIT else ""
        table.border_title = f"Episodes ({len(message.rows)}{more}, newest first)"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "episodes" and event.row_key.value:
            self.load(str(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "episodes":
            self.action_survey()

    @work(thread=True, exclusive=True, group="episode", exit_on_error=False)
    def load(self, episode_id: str) -> None:
        app = app_of(self)
        self.post_message(EpisodeLoaded(episode_detail(app.reader(), episode_id),
                                        scale_labels()))

    def _clear_pane(self, text: str) -> None:
        self.query_one("#episode-info", Static).update(text)
        self.query_one("#responses", DataTable).clear()
        self.query_one("#trajectory", Plot).set_data([], message="No episode selected")

    def on_screen_resume(self) -> None:
        """Back from a survey or a form: show what was just saved."""
        if self.detail is not None:
            self.load(str(self.detail.episode["id"]))

    def on_episode_loaded(self, message: EpisodeLoaded) -> None:
        d: EpisodeDetail = message.detail
        if d.episode["id"] != self._selected():
            return  # a slower load for a row no longer highlighted
        self.detail = d
        e = d.episode
        info = Text.assemble(
            (d.patient or "(no name)", "bold"), f" · {d.record_number} · episode {e['id']}\n",
            f"Referred {e['referral_date']}", f" by {d.partner}" if d.partner else " (self)",
            f" · {e['body_region']} {e['diagnosis'] or ''} · {status_label(e['status'])}",
            f" · {e['visits']} visits" if e.get("visits") is not None else "",
        )
        if d.letters:
            info.append("\nSent: " + "; ".join(f"{x['date']} {x['kind'].replace('_', ' ')}"
                                              f" to {x['partner']}" for x in d.letters))
        for n in d.nps:
            info.append(f"\nNPS {n['date']}: {n['score']}")
            if n["comment"]:
                info.append(f" “{n['comment']}”")
        self.query_one("#episode-info", Static).update(info)
        labels = message.labels
        table = self.query_one("#responses", DataTable)
        table.clear()
        for r in d.responses:
            score = ", ".join(f"{v:.1f}" for v in r.scores.values() if v is not None)
            shown = score or (r.reason or "not scorable")
            if r.amended:
                shown += f" (amended {r.amended})"
            table.add_row(Text(r.date), Text(labels.get(r.instrument, r.instrument)),
                          Text(r.timepoint), Text(one_line(shown)))
        scales = d.scales()
        plot = self.query_one("#trajectory", Plot)
        if scales:
            points = d.trajectory(scales[0])
            name = labels.get(scales[0], scales[0])
            plot.set_data([Series([p[0][5:] for p in points], [p[1] for p in points],
                                  name, "line")], title=f"{name} over time")
        else:
            plot.set_data([], message="No scores yet")

    def _selected(self) -> str | None:
        table = self.query_one("#episodes", DataTable)
        if 0 <= table.cursor_row < len(self.ids):
            return self.ids[table.cursor_row]
        return None

    def action_survey(self) -> None:
        episode_id = self._selected()
        if episode_id is None:
            self.notify("No episode selected: find a patient first (/).", severity="warning")
            return
        app = app_of(self)
        app.action_survey(episode_id)

    def action_letter(self) -> None:
        d = self.detail
        if d is None or d.episode["id"] != self._selected():
            self.notify("No episode selected: find a patient first (/).", severity="warning")
            return
        if d.episode.get("partner_id") is None:
            self.notify("Select an episode that has a referring partner.", severity="warning")
            return
        from outcomes_tui.forms.letter import LetterForm

        episode_id = str(d.episode["id"])
        discharged = d.episode.get("status") == "discharged" or bool(
            d.episode.get("discharge_date"))

        def made(saved: bool | None) -> None:
            if saved:
                self.load(episode_id)  # the pane lists the letter just made

        self.app.push_screen(LetterForm(episode_id, d.partner or "", discharged), made)

    def action_clinical_notes(self) -> None:
        if self.detail is None:
            self.notify("Select an episode first.", severity="warning")
            return
        from outcomes_tui.forms.clinical_notes import ClinicalNotesForm

        episode_id = str(self.detail.episode["id"])

        def saved(done: bool | None) -> None:
            if done:
                self.load(episode_id)

        self.app.push_screen(ClinicalNotesForm(episode_id, self.detail.episode), saved)

    def action_focus_search(self) -> None:
        # set_focus at once (Widget.focus() waits a turn of the loop, while keys keep coming)
        self.set_focus(self.query_one("#search", Input))

    def action_focus_table(self) -> None:
        self.set_focus(self.query_one("#episodes", DataTable))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_table":
            return self.focused is self.query_one("#search", Input)
        return True

    # --- forms for the daily writes ----------------------------------------------------------

    def _refresh_after_form(self, episode_id: str | None) -> None:
        self.search(self.query_one("#search", Input).value)
        if episode_id:
            self.load(episode_id)

    def action_new_referral(self) -> None:
        from outcomes_tui.forms.new_referral import NewReferralForm

        form = NewReferralForm()

        def recorded(saved: bool | None) -> None:
            if not saved:
                return
            new_id = str(form.job["id"]) if isinstance(form.job, dict) else ""
            if new_id:
                # Show the new referral, selected, with the table focused: the next key (c, s,
                # ctrl+e) acts on it instead of typing into the search box.
                self.query_one("#search", Input).value = new_id
                self.call_later(self.action_focus_table)
            self._refresh_after_form(new_id or None)

        self.app.push_screen(form, recorded)

    def action_change_status(self) -> None:
        d = self.detail
        episode_id = self._selected()
        if d is None or episode_id is None or str(d.episode["id"]) != episode_id:
            self.notify("Select an episode first.", severity="warning")
            return
        from outcomes_tui.forms.referral_status import ReferralStatusForm

        def changed(saved: bool | None) -> None:
            if saved:
                self._refresh_after_form(episode_id)

        self.app.push_screen(ReferralStatusForm(dict(d.episode), d.patient), changed)
