"""Survey entry: keys typed into the form store a response whose score is right."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from outcomes_tui.guard import LeaveScreen
from outcomes_tui.screens.survey_entry import SurveyEntryScreen
from outcomes_tui.widgets.survey_items import SurveyItems


def _fresh_episode(path: Path, instrument: str) -> str:
    """An episode of the demo with this instrument and no responses yet."""
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT id FROM episodes e WHERE instrument = ? AND NOT EXISTS"
            " (SELECT 1 FROM responses r WHERE r.episode_id = e.id) ORDER BY id LIMIT 1",
            [instrument],
        ).fetchone()
    assert row, f"the demo has no {instrument} episode without responses"
    return str(row[0])


def _responses(path: Path, episode_id: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT instrument, timepoint, date, answers, scores, scorable FROM responses"
            " WHERE episode_id = ?", [episode_id]).fetchall()


def test_full_odi_takes_eleven_keys_and_stores_the_right_score(app, drive, settle,
                                                               demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")
    answers = "3213021024"  # sum 18 -> ODI 100 * 18 / 50 = 36.0

    async def body(pilot):
        pilot.app.action_survey(episode)  # the form opens with the episode chosen
        await settle(pilot)
        assert isinstance(pilot.app.screen, SurveyEntryScreen)
        keys = [*answers, "enter"]
        assert len(keys) <= 13
        for key in keys:
            await pilot.press(key)
        await settle(pilot)
        assert not isinstance(pilot.app.screen, SurveyEntryScreen)  # saved and closed

    drive(app, body)
    rows = _responses(demo_db_path, episode)
    assert len(rows) == 1
    instrument, timepoint, when, stored, scores, scorable = rows[0]
    assert (instrument, timepoint, when) == ("odi", "intake", "2026-11-22")
    assert json.loads(stored) == [int(c) for c in answers]
    assert json.loads(scores) == {"odi": 36.0}
    assert scorable == 1


def test_skip_refuse_and_live_score(app, drive, settle, demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        items = screen.query_one(SurveyItems)
        await pilot.press("7")  # ODI items go 0-5: refused, cursor stays
        await pilot.pause()
        assert items.cursor == 0
        assert "7 is not allowed for item 1" in str(screen.query_one("#refusal").render())
        for key in ["2", "minus", "3", "3", "3", "3", "3", "3", "3", "3"]:
            await pilot.press(key)
        await pilot.pause()
        assert items.answers() == [2, None, 3, 3, 3, 3, 3, 3, 3, 3]
        # 26 of 45 possible with one item missing -> 57.8, still scorable (one may be missing)
        shown = str(screen.query_one("#score").render())
        assert "57.8" in shown and "9 of 10 answered" in shown
        await pilot.press("enter")
        await settle(pilot)

    drive(app, body)
    rows = _responses(demo_db_path, episode)
    assert json.loads(rows[0][3]) == [2, None, 3, 3, 3, 3, 3, 3, 3, 3]
    assert json.loads(rows[0][4])["odi"] == 100 * 26 / 45


def test_two_digit_items_take_ten_as_one_then_zero(app, drive, settle, demo_db_path):
    """PSFS items go 0-10: "1" "0" is 10; "1" then another digit is 1 and the next answer."""
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#instrument").value = "psfs"
        await settle(pilot)
        screen.query_one(SurveyItems).focus()
        for key in ["1", "0", "1", "4", "t", "minus", "minus", "enter"]:
            await pilot.press(key)
        await settle(pilot)

    drive(app, body)
    rows = _responses(demo_db_path, episode)
    assert [r[0] for r in rows] == ["psfs"]
    assert json.loads(rows[0][3]) == [10, 1, 4, 10]
    assert json.loads(rows[0][4]) == {"psfs": 25 / 4}


def test_nps_comment_with_markup_is_stored_and_shown_as_typed(app, drive, settle,
                                                              demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")
    comment = "Billing was [bold]confusing[/bold]"

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#instrument").value = "nps"
        await settle(pilot)
        screen.query_one(SurveyItems).focus()
        await pilot.press("9")
        await pilot.press("tab")  # into the comment
        await pilot.pause()
        for ch in comment:
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
        await settle(pilot)
        # The episode screen shows the comment exactly as typed.
        pilot.app.action_go("episodes")
        await settle(pilot)
        episodes = pilot.app.screen
        episodes.query_one("#search").value = episode
        await settle(pilot)
        info = str(episodes.query_one("#episode-info").render())
        assert comment in info

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        stored = conn.execute("SELECT score, comment FROM nps_responses WHERE episode_id = ?",
                              [episode]).fetchall()
    assert stored == [(9, comment)]


# --- the form built for paper, replace and first visit (issue 17) ------------------------------

def _episode_where(path: Path, sql: str) -> tuple[str, str]:
    with sqlite3.connect(path) as conn:
        row = conn.execute(sql).fetchone()
    assert row, sql
    return str(row[0]), str(row[1])


def _lowest_answers(screen: SurveyEntryScreen) -> list[str]:
    instrument = screen.query_one(SurveyItems).instrument
    assert instrument is not None
    return [str(item.min) for item in instrument.items]


def test_f10_switches_to_nps_and_back_in_one_key_and_the_grid_keeps_focus(app, drive, settle,
                                                                        demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        items = screen.query_one(SurveyItems)
        await pilot.press("f10")
        await settle(pilot)
        assert screen.query_one("#instrument").value == "nps"
        assert items.instrument is not None and items.instrument.id == "nps"
        assert screen.focused is items
        await pilot.press("1", "0")
        await settle(pilot)
        assert items.answers() == [10]
        await pilot.press("f10")  # answers typed: asks before throwing the 10 away
        await settle(pilot)
        assert isinstance(pilot.app.screen, LeaveScreen)
        await pilot.press("enter")  # Enter keeps
        await settle(pilot)
        assert items.answers() == [10] and items.instrument.id == "nps"
        await pilot.press("f10", "y")
        await settle(pilot)
        assert items.instrument.id == "odi" and screen.focused is items

    drive(app, body)


def test_digits_typed_after_leaving_the_timepoint_list_go_to_the_grid(app, drive, settle,
                                                                      demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")
    answers = "3213021024"

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        await pilot.press("f9")  # the timepoint list opens
        await settle(pilot)
        assert screen.query_one("#timepoint").expanded
        await pilot.press("escape")  # leave it without choosing: the focus is on the picker
        await settle(pilot)
        assert screen.focused is screen.query_one("#timepoint")
        for key in answers:
            await pilot.press(key)
        await settle(pilot)
        items = screen.query_one(SurveyItems)
        assert items.answers() == [int(c) for c in answers]
        assert screen.focused is items

    drive(app, body)


def test_choosing_a_timepoint_hands_the_focus_back_to_the_grid(app, drive, settle,
                                                               demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        await pilot.press("f9", "down", "enter")  # intake -> progress
        await settle(pilot)
        assert screen.query_one("#timepoint").value == "progress"
        assert screen.focused is screen.query_one(SurveyItems)

    drive(app, body)


def test_the_date_field_shows_the_whole_date(app, drive, settle, demo_db_path):
    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        date_input = pilot.app.screen.query_one("#date")
        date_input.focus()  # the cursor sits after the text: one more cell
        await settle(pilot)
        assert date_input.value == "2026-11-22"
        assert date_input.content_region.width >= len(date_input.value) + 1
        assert "2026-11-22" in "".join(s.text for s in date_input.render_line(0))

    drive(app, body)


def test_the_footer_lists_the_forms_keys_not_the_screen_keys(app, drive, settle, demo_db_path):
    from textual.widgets._footer import FooterKey

    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        shown = {key.description for key in pilot.app.screen.query(FooterKey)}
        assert {"Save", "Back", "Instrument", "Timepoint", "NPS"} <= shown
        assert not shown & {"Dashboard", "Partners", "Patients", "Survey", "Enter 10"}

    drive(app, body)


def _stored_intake(path, offset: int):
    """An episode in care with a stored intake on its own instrument, and that intake's
    (date, answers, scores)."""
    episode, instrument = _episode_where(path, (
        "SELECT e.id, e.instrument FROM episodes e JOIN responses r ON r.episode_id = e.id"
        " AND r.instrument = e.instrument AND r.timepoint = 'intake'"
        f" WHERE e.status = 'in_care' ORDER BY e.id LIMIT 1 OFFSET {offset}"))
    [(_i, _t, *stored, _s)] = [
        r for r in _responses(path, episode) if r[:2] == (instrument, "intake")]
    return episode, instrument, tuple(stored)


async def _second_intake(pilot, settle, episode):
    """Type a second intake for ``episode`` and press Enter: the form asks what to do with the
    stored one, and nothing is written yet."""
    pilot.app.action_survey(episode)
    await settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#timepoint").value = "intake"  # the form offers progress
    await settle(pilot)
    keys = _lowest_answers(screen)
    for key in [*keys, "enter"]:
        await pilot.press(key)
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "ReplaceOrAmendScreen"
    assert "already has" in str(pilot.app.screen.query_one("#confirm-question").render())
    return screen, keys


def test_a_second_intake_asks_before_replacing_and_the_audit_keeps_the_old_values(
        app, drive, settle, demo_db_path):
    episode, instrument, (old_date, old_answers, old_scores) = _stored_intake(demo_db_path, 0)

    async def body(pilot):
        screen, keys = await _second_intake(pilot, settle, episode)
        assert next(r for r in _responses(demo_db_path, episode)
                    if r[:2] == (instrument, "intake"))[3] == old_answers
        await pilot.press("n")  # keep the stored one: the form stays with its answers
        await settle(pilot)
        assert pilot.app.screen is screen
        assert screen.query_one(SurveyItems).answers() == [int(k) for k in keys]
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")  # now replace it
        await settle(pilot)
        assert not isinstance(pilot.app.screen, SurveyEntryScreen)

    drive(app, body)
    intakes = [r for r in _responses(demo_db_path, episode) if r[:2] == (instrument, "intake")]
    assert len(intakes) == 1
    with sqlite3.connect(demo_db_path) as conn:
        action, detail = conn.execute(
            "SELECT action, detail FROM audit_log WHERE entity = 'responses'"
            " ORDER BY id DESC LIMIT 1").fetchone()
    detail = json.loads(detail)
    assert action == "replace" and detail["episode_id"] == episode
    assert detail["old"] == [{"date": old_date, "answers": json.loads(old_answers),
                              "scores": json.loads(old_scores)}]
    assert json.loads(intakes[0][3]) == detail["answers"] != json.loads(old_answers)


def test_an_intake_on_a_scheduled_referral_offers_to_record_the_first_visit(app, drive, settle,
                                                                           demo_db_path):
    episode, _instrument = _episode_where(demo_db_path, (
        "SELECT id, instrument FROM episodes e WHERE status = 'scheduled' AND NOT EXISTS"
        " (SELECT 1 FROM responses r WHERE r.episode_id = e.id) ORDER BY id LIMIT 1"))

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        screen = pilot.app.screen
        for key in [*_lowest_answers(screen), "enter"]:
            await pilot.press(key)
        await settle(pilot)
        question = str(pilot.app.screen.query_one("#confirm-question").render())
        assert "Record the first visit" in question and "2026-11-22" in question
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, SurveyEntryScreen)

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        status, first_visit = conn.execute(
            "SELECT status, first_visit_date FROM episodes WHERE id = ?", [episode]).fetchone()
    assert (status, first_visit) == ("evaluated", "2026-11-22")


def test_declining_the_first_visit_leaves_the_referral_scheduled(app, drive, settle,
                                                                demo_db_path):
    episode, _instrument = _episode_where(demo_db_path, (
        "SELECT id, instrument FROM episodes e WHERE status = 'scheduled' AND NOT EXISTS"
        " (SELECT 1 FROM responses r WHERE r.episode_id = e.id) ORDER BY id LIMIT 1"))

    async def body(pilot):
        pilot.app.action_survey(episode)
        await settle(pilot)
        for key in [*_lowest_answers(pilot.app.screen), "enter"]:
            await pilot.press(key)
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, SurveyEntryScreen)

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        status, first_visit = conn.execute(
            "SELECT status, first_visit_date FROM episodes WHERE id = ?", [episode]).fetchone()
    assert (status, first_visit) == ("scheduled", None)
    assert [r[1] for r in _responses(demo_db_path, episode)] == ["intake"]


def test_an_episode_id_typed_as_the_form_opens_is_kept(app, drive, settle, demo_db_path):
    """Keys sent in one burst with the form still opening (as tmux sends them) reach the
    episode field, and Enter loads the episode."""
    from textual import events
    from textual.keys import _character_to_key

    episode = _fresh_episode(demo_db_path, "odi")

    async def body(pilot):
        pilot.app.action_survey()
        for ch in episode:
            pilot.app.post_message(events.Key(_character_to_key(ch), ch))
        pilot.app.post_message(events.Key("enter", "\r"))
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, SurveyEntryScreen)
        assert screen.query_one("#episode").value == episode
        assert screen.detail is not None and screen.detail.episode["id"] == episode
        assert screen.focused is screen.query_one(SurveyItems)

    drive(app, body)


def test_a_form_opened_without_an_episode_keeps_the_focus_on_the_episode_field(app, drive,
                                                                               settle):
    """The lists post Changed while they are set up; that must not move the focus to the grid
    (where an episode id typed next was queued as answers)."""

    async def body(pilot):
        await pilot.press("s")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, SurveyEntryScreen)
        assert screen.focused is screen.query_one("#episode")
        await pilot.press("E", "0")
        await settle(pilot)
        assert screen.query_one("#episode").value == "E0"
        assert screen.query_one(SurveyItems).queued == []

    drive(app, body)


def test_amending_a_stored_intake_asks_the_reason_and_marks_the_response(
        app, drive, settle, demo_db_path):
    episode, instrument, (old_date, old_answers, old_scores) = _stored_intake(demo_db_path, 1)
    reason = "Patient corrected item 2 on review [sic]"

    async def body(pilot):
        from outcomes_tui.forms.amend import AmendForm

        await _second_intake(pilot, settle, episode)
        await pilot.press("a")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, AmendForm)
        await pilot.press("ctrl+s")  # no reason: refused, nothing written
        await settle(pilot)
        assert pilot.app.screen is form and "say why" in str(
            form.query_one("#form-error").render())
        for ch in reason:
            await pilot.press({" ": "space", "[": "left_square_bracket",
                               "]": "right_square_bracket"}.get(ch, ch))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, (AmendForm, SurveyEntryScreen))

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        answers, amended_at, why = conn.execute(
            "SELECT answers, amended_at, amendment_reason FROM responses WHERE episode_id = ?"
            " AND instrument = ? AND timepoint = 'intake'", [episode, instrument]).fetchone()
        action, detail = conn.execute(
            "SELECT action, detail FROM audit_log WHERE entity = 'responses'"
            " ORDER BY id DESC LIMIT 1").fetchone()
    assert why == reason and amended_at and answers != old_answers
    detail = json.loads(detail)
    assert action == "amend" and detail["reason"] == reason
    assert detail["old"] == [{"date": old_date, "answers": json.loads(old_answers),
                              "scores": json.loads(old_scores)}]
