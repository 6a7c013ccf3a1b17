"""The clinical-notes form (`n` on the patients screen): what is typed is stored as typed,
through the same core call as `outcomes referrals update`; a refusal keeps the input."""

from __future__ import annotations

import sqlite3

from textual.widgets import Input, Static

from outcomes_tui.forms.clinical_notes import ClinicalNotesForm


async def _open(pilot, settle):  # type: ignore[no-untyped-def]
    await pilot.press("f4")
    await settle(pilot)
    for key in ["E", "0", "0", "0", "0", "1", "enter"]:
        await pilot.press(key)
    await settle(pilot)
    await pilot.press("ctrl+e")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, ClinicalNotesForm)
    return form


def test_n_saves_clinical_content_and_a_goal(app, drive, settle, demo_db_path):  # type: ignore[no-untyped-def]
    async def body(pilot):  # type: ignore[no-untyped-def]
        form = await _open(pilot, settle)
        assert form.episode_id == "E00001"
        form.query_one("#cn-findings", Input).value = "[bold]Flexion[/bold] 50% limited"
        form.query_one("#cn-frequency", Input).value = "2x/week"
        form.query_one("#cn-goal", Input).value = "Walk 1 km|2026-12-20"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, ClinicalNotesForm)

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        assert conn.execute("SELECT findings, plan_frequency FROM episodes WHERE id = 'E00001'"
                            ).fetchone() == ("[bold]Flexion[/bold] 50% limited", "2x/week")
        assert conn.execute("SELECT goal, target_date, status FROM episode_goals"
                            " WHERE episode_id = 'E00001'").fetchall() == [
            ("Walk 1 km", "2026-12-20", "open")]


def test_a_refused_diagnosis_keeps_the_form_and_writes_nothing(app, drive, settle,  # type: ignore[no-untyped-def]
                                                               demo_db_path):
    async def body(pilot):  # type: ignore[no-untyped-def]
        form = await _open(pilot, settle)
        form.query_one("#cn-findings", Input).value = "Guarded gait"
        form.query_one("#cn-diagnosis", Input).value = "back pain"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form
        error = str(form.query_one("#form-error", Static).render())
        assert "ICD-10-CM" in error
        assert form.query_one("#cn-findings", Input).value == "Guarded gait"

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        assert conn.execute("SELECT findings FROM episodes WHERE id = 'E00001'"
                            ).fetchone()[0] != "Guarded gait"
