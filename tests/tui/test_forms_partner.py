"""Pilot tests of the new-partner form: what is typed is stored, each bad input is named and
kept, the duplicate warnings, cancel with and without typed input."""

from __future__ import annotations

import sqlite3

from textual.widgets import Input, Select, Static

from outcomes.npi import npi_check_digit
from outcomes_tui.forms.confirm import ConfirmScreen
from outcomes_tui.forms.new_partner import NewPartnerForm
from outcomes_tui.screens.partners import PartnersScreen
from tests.tui.forms_helpers import type_into

NPI = "123456789" + str(npi_check_digit("123456789"))


async def open_form(pilot, settle):
    await pilot.press("p")
    await settle(pilot)
    await pilot.press("down")  # from the filter into the table, where letters are keys
    await pilot.press("n")
    await settle(pilot)
    assert isinstance(pilot.app.screen, NewPartnerForm)
    return pilot.app.screen


def test_a_new_partner_is_stored_as_typed(app, drive, settle, demo_db_path):
    async def body(pilot):
        form = await open_form(pilot, settle)
        await type_into(pilot, "#np-name", "Dr. Ada Quill")
        kind = form.query_one("#np-kind", Select)
        kind.focus()
        await pilot.press("enter")  # open the list, type to find, enter picks
        for ch in "chiro":
            await pilot.press(ch)
        await pilot.press("enter")
        await settle(pilot)
        assert kind.value == "chiropractor"
        await type_into(pilot, "#np-npi", NPI)
        await settle(pilot)
        assert str(form.query_one("#np-npi-check", Static).render()) == "NPI valid."
        await type_into(pilot, "#np-organization", "Quill Chiropractic")
        await type_into(pilot, "#np-phone", "555-0101")
        await type_into(pilot, "#np-fax", "555-0102")
        await type_into(pilot, "#np-email", "ada@quill.example")
        form.query_one("#np-stage", Select).value = "outreach"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PartnersScreen)
        # the table refreshed: the new partner is in it
        assert "41 of 41" in str(pilot.app.screen.query_one("#partners").border_title)

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        row = conn.execute(
            "SELECT name, kind, npi, organization, phone, fax, email, stage, stage_source"
            " FROM partners WHERE name = 'Dr. Ada Quill'").fetchall()
    assert row == [("Dr. Ada Quill", "chiropractor", NPI, "Quill Chiropractic", "555-0101",
                    "555-0102", "ada@quill.example", "outreach", "user")]


def test_let_the_app_suggest_leaves_the_stage_to_the_app(app, drive, settle, demo_db_path):
    async def body(pilot):
        form = await open_form(pilot, settle)
        await type_into(pilot, "#np-name", "Harbor Sports Clinic")
        form.query_one("#np-kind", Select).value = "sports medicine"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PartnersScreen)

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        assert conn.execute("SELECT npi, stage_source FROM partners WHERE name = ?",
                            ["Harbor Sports Clinic"]).fetchall() == [(None, "suggested")]


def test_the_npi_is_checked_as_it_is_typed(app, drive, settle):
    async def body(pilot):
        form = await open_form(pilot, settle)
        check = form.query_one("#np-npi-check", Static)
        await type_into(pilot, "#np-npi", "12345")
        assert "has 5 digits; an NPI has exactly 10" in str(check.render())
        assert check.has_class("-invalid")
        await type_into(pilot, "#np-npi", "67890")  # 1234567890: wrong check digit
        assert "fails its check digit" in str(check.render())
        for _ in range(10):
            await pilot.press("backspace")
        assert str(check.render()) == ""

    drive(app, body)


def test_each_invalid_input_is_named_and_kept(app, drive, settle, demo_db_path):
    async def body(pilot):
        form = await open_form(pilot, settle)
        error = form.query_one("#form-error", Static)
        # no kind chosen
        await type_into(pilot, "#np-name", "Dr. Ada Quill")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "kind" in str(error.render()).lower()
        assert isinstance(pilot.app.screen, NewPartnerForm)
        form.query_one("#np-kind", Select).value = "chiropractor"
        # a bad NPI
        await type_into(pilot, "#np-npi", "1234567890")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "fails its check digit" in str(error.render())
        form.query_one("#np-npi", Input).value = ""
        # a bad email
        await type_into(pilot, "#np-email", "ada-at-quill")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is not an email address" in str(error.render())
        assert form.query_one("#np-email", Input).value == "ada-at-quill"
        assert form.query_one("#np-name", Input).value == "Dr. Ada Quill"
        # no name
        form.query_one("#np-email", Input).value = ""
        form.query_one("#np-name", Input).value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "name" in str(error.render()).lower()
        assert isinstance(pilot.app.screen, NewPartnerForm)

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        assert conn.execute("SELECT count(*) FROM partners").fetchone() == (40,)


def test_an_npi_on_file_is_named_as_typed_and_refused(app, drive, settle, demo_db_path):
    with sqlite3.connect(demo_db_path) as conn:
        name, npi = conn.execute("SELECT name, npi FROM partners WHERE npi IS NOT NULL"
                                 " ORDER BY id LIMIT 1").fetchone()

    async def body(pilot):
        form = await open_form(pilot, settle)
        await type_into(pilot, "#np-name", "Someone Else Entirely")
        form.query_one("#np-kind", Select).value = "other"
        await type_into(pilot, "#np-npi", npi)
        await settle(pilot)
        assert f"already on file for {name}" in str(form.query_one("#np-npi-check").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = str(form.query_one("#form-error").render())
        assert f"NPI {npi} is already on file for {name}" in text
        assert "changed its name" in text
        assert isinstance(pilot.app.screen, NewPartnerForm)  # no override for an NPI

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        assert conn.execute("SELECT count(*) FROM partners").fetchone() == (40,)


def test_a_very_similar_name_asks_first(app, drive, settle, demo_db_path):
    async def body(pilot):
        form = await open_form(pilot, settle)
        await type_into(pilot, "#np-name", "Margaret Hale MD")  # "Dr. Margaret Hale" on file
        form.query_one("#np-kind", Select).value = "primary care"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")  # no: back in the form, nothing stored
        await settle(pilot)
        assert pilot.app.screen is form
        assert "Dr. Margaret Hale" in str(form.query_one("#form-error").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")  # yes: added
        await settle(pilot)
        assert isinstance(pilot.app.screen, PartnersScreen)

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        assert conn.execute("SELECT count(*) FROM partners WHERE name = 'Margaret Hale MD'"
                            ).fetchone() == (1,)


def test_cancel_without_input_closes_and_with_input_asks(app, drive, settle, demo_db_path):
    async def body(pilot):
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("ctrl+n")  # from the filter box, where n would type
        await settle(pilot)
        assert isinstance(pilot.app.screen, NewPartnerForm)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PartnersScreen)
        await pilot.press("down", "n")  # in the table, n opens the form
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, NewPartnerForm)
        await type_into(pilot, "#np-name", "Dr. Ada Quill")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")  # keep editing: the input is still there
        await settle(pilot)
        assert pilot.app.screen is form
        assert form.query_one("#np-name", Input).value == "Dr. Ada Quill"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")  # discard
        await settle(pilot)
        assert isinstance(pilot.app.screen, PartnersScreen)

    drive(app, body)
    with sqlite3.connect(demo_db_path) as conn:
        assert conn.execute("SELECT count(*) FROM partners").fetchone() == (40,)
