"""Nothing lost on a slip: keys that would leave a form with unsaved input ask first, and No
keeps every answer on screen; the patient search never shows a stale patient or drops a key.

Keys are pressed with Pilot and the tests wait for state (workers), never for time. ``burst``
posts keys the way a fast typist or tmux delivers them: all queued before any is handled."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from outcomes_tui.forms.touchpoint import TouchpointForm
from outcomes_tui.guard import LeaveScreen
from outcomes_tui.screens.episodes import EpisodesScreen
from outcomes_tui.screens.survey_entry import SurveyEntryScreen
from outcomes_tui.widgets.survey_items import SurveyItems
from tests.tui.test_survey import _fresh_episode, _responses

HALF = ["3", "2", "1", "3", "0", "2", "1"]  # seven of the ten ODI answers


async def _half_filled_survey(pilot: Any, settle: Any, episode: str) -> SurveyItems:
    pilot.app.action_survey(episode)
    await settle(pilot)
    for key in HALF:
        await pilot.press(key)
    await settle(pilot)
    items = pilot.app.screen.query_one(SurveyItems)
    assert items.answers()[:7] == [int(k) for k in HALF]
    return items


def _assert_kept(pilot: Any, items: SurveyItems) -> None:
    assert isinstance(pilot.app.screen, SurveyEntryScreen)
    assert pilot.app.screen.query_one(SurveyItems) is items
    assert items.answers()[:7] == [int(k) for k in HALF]
    assert items.cursor == 7


def test_q_does_nothing_and_escape_asks_in_a_half_filled_survey(app, drive, settle,
                                                                demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        items = await _half_filled_survey(pilot, settle, episode)
        await pilot.press("q")  # was quit; now nothing
        await settle(pilot)
        assert pilot.app.is_running
        _assert_kept(pilot, items)
        for no in ("n", "escape", "enter"):  # each keeps the answers
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(pilot.app.screen, LeaveScreen), no
            await pilot.press(no)
            await settle(pilot)
            _assert_kept(pilot, items)
        # still typing into the same form: the remaining three answers and Enter save it
        for key in ["0", "2", "4", "enter"]:
            await pilot.press(key)
        await settle(pilot)
        assert not isinstance(pilot.app.screen, SurveyEntryScreen)

    drive(app, body)
    assert [r[0] for r in _responses(demo_db_path, episode)] == ["odi"]


def test_escape_then_y_discards_and_an_empty_survey_closes_without_asking(app, drive, settle,
                                                                          demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        await _half_filled_survey(pilot, settle, episode)
        await pilot.press("escape", "y")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, SurveyEntryScreen | LeaveScreen)
        pilot.app.action_survey(episode)
        await settle(pilot)
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot)
        assert not isinstance(pilot.app.screen, SurveyEntryScreen | LeaveScreen)

    drive(app, body)
    assert _responses(demo_db_path, episode) == []


def test_ctrl_q_asks_only_when_something_is_unsaved(app, drive, settle, demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        items = await _half_filled_survey(pilot, settle, episode)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(pilot.app.screen, LeaveScreen)
        await pilot.press("n")
        await settle(pilot)
        assert pilot.app.is_running
        _assert_kept(pilot, items)
        await pilot.press("ctrl+n")  # clear the answers: nothing unsaved any more
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert not pilot.app.is_running

    drive(app, body)


def test_ctrl_q_then_y_quits_a_dirty_survey(app, drive, settle, demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        await _half_filled_survey(pilot, settle, episode)
        await pilot.press("ctrl+q", "y")
        await settle(pilot)
        assert not pilot.app.is_running

    drive(app, body)
    assert _responses(demo_db_path, episode) == []


def test_mode_keys_ask_over_a_dirty_survey_and_no_keeps_it_visible(app, drive, settle,
                                                                  demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        items = await _half_filled_survey(pilot, settle, episode)
        for key in ("d", "p", "e", "s", "k", "f2", "f3", "f4", "f6", "f7"):
            await pilot.press(key)
            await settle(pilot)
            if key == "s":  # already in the survey: nothing opens over it
                _assert_kept(pilot, items)
                continue
            assert isinstance(pilot.app.screen, LeaveScreen), key
            await pilot.press("n")
            await settle(pilot)
            _assert_kept(pilot, items)
        # A search typed now goes nowhere near the form (the bug: "E00605" became 0,0,0,5).
        await pilot.press("0", "0")
        await settle(pilot)
        assert items.answers()[:9] == [*map(int, HALF), 0, 0]
        # Yes leaves, and the form is closed, not left hidden under the partner table.
        await pilot.press("p", "y")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "PartnersScreen"
        await pilot.press("f4")  # the partner filter has the focus: a letter would type
        await settle(pilot)
        assert isinstance(pilot.app.screen, EpisodesScreen)
        assert not any(isinstance(s, SurveyEntryScreen) for s in pilot.app.screen_stack)

    drive(app, body)


def test_a_clean_survey_closes_when_switching_modes(app, drive, settle, demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        pilot.app.action_go("episodes")
        await settle(pilot)
        pilot.app.action_survey(episode)
        await settle(pilot)
        await pilot.press("p")  # nothing typed: no question
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "PartnersScreen"
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(pilot.app.screen, EpisodesScreen)  # not the survey, hidden before

    drive(app, body)


def test_ctrl_q_asks_over_a_dirty_modal_form(app, drive, settle):
    async def body(pilot):
        await pilot.press("p")
        await settle(pilot)
        partners = pilot.app.screen
        partners.query_one("DataTable").focus()
        await pilot.press("enter")  # open the first partner
        await settle(pilot)
        await pilot.press("t")  # log a touchpoint
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, TouchpointForm)
        note = form.query_one("#tp-summary", Input)
        note.value = "Lunch and learn"
        assert form.dirty
        await pilot.press("f2")  # a modal form holds the keys: the screen keys do nothing
        await settle(pilot)
        assert pilot.app.screen is form and note.value == "Lunch and learn"
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(pilot.app.screen, LeaveScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.is_running
        assert pilot.app.screen is form and note.value == "Lunch and learn"

    drive(app, body)


# --- the patient search ------------------------------------------------------------------------

def _burst(pilot: Any, keys: list[str]) -> None:
    """Queue every key before the app handles the first, as tmux does with fast typing."""
    from textual import events
    from textual.keys import _character_to_key

    for key in keys:
        if len(key) == 1:
            pilot.app.post_message(events.Key(_character_to_key(key), key))
        else:
            pilot.app.post_message(events.Key(key, None))


async def _settle_burst(pilot: Any) -> None:
    """Wait for the keys of a burst and the searches they start. Each key starts an exclusive
    search that cancels the one before, and waiting on a cancelled worker raises: wait again."""
    from textual.worker import WorkerCancelled

    for _ in range(10):
        await pilot.pause()
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        await pilot.pause()
        if not [w for w in pilot.app.workers if not w.is_finished]:
            return


def _info(screen: EpisodesScreen) -> str:
    return str(screen.query_one("#episode-info").render())


def test_a_search_with_no_results_clears_the_pane_and_l_and_s_say_so(app, drive, settle):
    async def body(pilot):
        await pilot.press("f4")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, EpisodesScreen)
        screen.query_one("#search", Input).value = "E00001"
        await settle(pilot)
        assert "E00001" in _info(screen) and screen.detail is not None
        screen.query_one("#search", Input).value = "no such patient zzz"
        await settle(pilot)
        assert screen.ids == [] and screen.detail is None
        assert "E00001" not in _info(screen) and "No episode matches" in _info(screen)
        assert screen.query_one("#responses").row_count == 0
        screen.query_one("#episodes").focus()
        await settle(pilot)
        for key in ("l", "s"):
            await pilot.press(key)
            await settle(pilot)
            assert pilot.app.screen is screen, key  # no letter form, no survey
            assert any("No episode selected" in n.message
                       for n in pilot.app._notifications), key
            pilot.app.clear_notifications()

    drive(app, body)


def test_a_saved_score_shows_in_the_pane_right_after_the_save(app, drive, settle,
                                                              demo_db_path):
    from tests.tui.test_survey import _fresh_episode

    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        await pilot.press("f4")
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#search", Input).value = episode
        await settle(pilot)
        responses = screen.query_one("#responses")
        before = responses.row_count
        screen.query_one("#episodes").focus()
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, SurveyEntryScreen)
        for key in [*"3213021024", "enter"]:
            await pilot.press(key)
        await settle(pilot)
        assert pilot.app.screen is screen
        assert responses.row_count == before + 1
        assert "36.0" in [str(c) for c in responses.get_row_at(responses.row_count - 1)]

    drive(app, body)


def test_keys_typed_fast_after_slash_land_in_the_search(app, drive, settle):
    async def body(pilot):
        await pilot.press("f4")
        await settle(pilot)
        screen = pilot.app.screen
        search = screen.query_one("#search", Input)
        for attempt in range(3):
            screen.query_one("#episodes").focus()
            await settle(pilot)
            _burst(pilot, ["slash", *"E0060"])
            await _settle_burst(pilot)
            assert search.value == "E0060", attempt
            assert pilot.app.screen is screen  # no letter ran a binding
            _burst(pilot, ["backspace", "backspace", *"01"])
            await _settle_burst(pilot)
            assert search.value == "E0001", attempt
            assert screen.ids and all(i.startswith("E0001") for i in screen.ids)
            search.value = ""
            await settle(pilot)

    drive(app, body)
