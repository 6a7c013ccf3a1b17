"""Input rules of the records: plain-text names, length caps, plausible dates, ASCII digits.

The caps and floors below are written out as literals (the documented rules), not read from
outcomes.models, so that a changed constant fails here.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlite_utils import Database

from outcomes.errors import ValidationError
from outcomes.importing.importer import ImportFailed, run_import
from outcomes.models import (
    Communication,
    Episode,
    NpsResponse,
    OutboundReferral,
    Partner,
    Patient,
    Touchpoint,
    validate,
)
from tests.conftest import DEMO_TODAY

TODAY = DEMO_TODAY
BASE: dict[type[BaseModel], dict[str, Any]] = {
    Partner: {"name": "Dr. Ada Stone", "kind": "pcp"},
    Patient: {"record_number": "MRN1"},
    Episode: {"id": "E1", "patient_record_number": "MRN1", "referral_date": "2026-01-05",
              "body_region": "knee"},
    Touchpoint: {"partner_id": 1, "date": "2026-01-05", "method": "call"},
    OutboundReferral: {"partner_id": 1, "date": "2026-01-05", "reason": "Needs imaging"},
    Communication: {"partner_id": 1, "date": "2026-01-05", "kind": "letter"},
    NpsResponse: {"date": "2026-01-05", "score": 9},
}


def check(model: type[BaseModel], **changes: Any) -> Any:
    return validate(model, {**BASE[model], **changes}, today=TODAY)


def refused(model: type[BaseModel], **changes: Any) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        check(model, **changes)
    return err.value


# One line of plain text: (model, field, cap in characters).
LINE_FIELDS = [
    (Partner, "name", 200),
    (Partner, "organization", 200),
    (Partner, "phone", 40),
    (Partner, "fax", 40),
    (Partner, "address", 300),
    (Partner, "city", 100),
    (Patient, "record_number", 64),
    (Patient, "name", 200),
    (Patient, "sex", 40),
    (Episode, "id", 64),
    (Episode, "patient_record_number", 64),
    (Episode, "clinician", 200),
    (Episode, "clinic", 200),
    (Touchpoint, "who", 200),
    (OutboundReferral, "episode_id", 64),
    (Communication, "episode_id", 64),
    (NpsResponse, "episode_id", 64),
]
# Free text, stored as typed: (model, field, cap).
FREE_FIELDS = [
    (Partner, "notes", 5000),
    (Episode, "status_reason", 2000),
    (Episode, "chief_complaint", 5000),
    (Episode, "findings", 5000),
    (Episode, "treatment", 5000),
    (Episode, "plan", 5000),
    (Touchpoint, "summary", 5000),
    (OutboundReferral, "reason", 2000),
    (Communication, "note", 5000),
    (NpsResponse, "comment", 5000),
]
CONTROLS = (
    [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
    + ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
       "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029"]
)
HOSTILE = [
    "\x1b]0;pwned\x07",  # OSC 0: window title
    "\x1b]8;;https://evil.example/\x1b\\",  # OSC 8: hidden hyperlink
    "\x1b[2J",  # clear screen
    "\u202e",  # right-to-left override
    "\n",  # a second line in a table cell
]


@pytest.mark.parametrize(("model", "field", "cap"), LINE_FIELDS,
                         ids=[f"{m.__name__}.{f}" for m, f, _ in LINE_FIELDS])
@pytest.mark.parametrize("planted", HOSTILE, ids=["osc0", "osc8", "csi-2j", "rlo", "newline"])
def test_names_refuse_terminal_controls_naming_the_field(
        model: type[BaseModel], field: str, cap: int, planted: str) -> None:
    error = refused(model, **{field: f"Ab{planted}cd"})
    assert error.field == field
    assert str(error).startswith(f"{field} has a control character (")
    assert "at character 3" in str(error)


@given(st.sampled_from(LINE_FIELDS), st.sampled_from(CONTROLS), st.text(max_size=20),
       st.text(max_size=20))
def test_every_control_character_is_refused_in_every_name(
        case: tuple[type[BaseModel], str, int], control: str, before: str, after: str) -> None:
    model, field, _ = case
    with pytest.raises(ValidationError) as err:
        check(model, **{field: f"x{before}{control}{after}x"})
    assert err.value.field == field


@pytest.mark.parametrize(("model", "field", "cap"), FREE_FIELDS,
                         ids=[f"{m.__name__}.{f}" for m, f, _ in FREE_FIELDS])
def test_free_text_is_stored_as_typed(model: type[BaseModel], field: str, cap: int) -> None:
    typed = "Pain \x1b[2J better\u202e\nline two\tend"
    assert getattr(check(model, **{field: typed}), field) == typed


@pytest.mark.parametrize(("model", "field", "cap"), LINE_FIELDS + FREE_FIELDS,
                         ids=[f"{m.__name__}.{f}" for m, f, _ in LINE_FIELDS + FREE_FIELDS])
def test_length_cap_at_the_boundary(model: type[BaseModel], field: str, cap: int) -> None:
    assert getattr(check(model, **{field: "x" * cap}), field) == "x" * cap
    assert getattr(check(model, **{field: "x" * (cap - 1)}), field) == "x" * (cap - 1)
    error = refused(model, **{field: "x" * (cap + 1)})
    assert error.field == field
    assert str(error) == f"{field} is {cap + 1:,} characters long; the limit is {cap:,}."


def test_the_99999_character_name_of_the_issue() -> None:
    error = refused(Partner, name="A" * 99_999)
    assert str(error) == "name is 99,999 characters long; the limit is 200."


def test_caps_count_after_trimming() -> None:
    assert check(Partner, name=" " * 50 + "x" * 200 + " " * 50).name == "x" * 200


def test_email_cap_and_tags() -> None:
    email = "a" * 240 + "@example.org"  # 252 characters
    assert check(Partner, email=email).email == email
    assert refused(Partner, email="a" * 243 + "@example.org").field == "email"
    assert check(Partner, tags=["t" * 50] * 50).tags == ["t" * 50] * 50
    assert refused(Partner, tags=["t" * 51]).field == "tags.0"
    assert refused(Partner, tags=["ok"] * 51).field == "tags"
    assert refused(Partner, tags=["ok", "bad\x1b[2J"]).field == "tags.1"


def test_ordinary_names_pass() -> None:
    for name in ("Dr. Zoë O'Brien-Łukasz", "李小龍", "محمد", "Smith & Jones, LLP", "[bold]x"):
        assert check(Partner, name=name).name == name


# --- dates ----------------------------------------------------------------------------------

# (model, field, earliest accepted date) for every date field.
DATE_FLOORS = [
    (Patient, "birth_date", date(1900, 1, 1)),
    (Episode, "referral_date", date(1990, 1, 1)),
    (Episode, "scheduled_date", date(1990, 1, 1)),
    (Episode, "onset_date", date(1900, 1, 1)),
    (Touchpoint, "date", date(1990, 1, 1)),
    (Touchpoint, "next_follow_up", date(1990, 1, 1)),
    (OutboundReferral, "date", date(1990, 1, 1)),
    (Communication, "date", date(1990, 1, 1)),
    (NpsResponse, "date", date(1990, 1, 1)),
]


@pytest.mark.parametrize(("model", "field", "earliest"), DATE_FLOORS,
                         ids=[f"{m.__name__}.{f}" for m, f, _ in DATE_FLOORS])
def test_date_floor_per_field(model: type[BaseModel], field: str, earliest: date) -> None:
    extra: dict[str, Any] = {}
    if model is Episode and field != "referral_date":
        extra["referral_date"] = "1990-01-01"
    assert getattr(check(model, **extra, **{field: earliest.isoformat()}), field) == earliest
    day_before = date.fromordinal(earliest.toordinal() - 1)
    for value in (day_before.isoformat(), day_before, "0001-01-01"):
        error = refused(model, **extra, **{field: value})
        assert error.field == field
        assert f"is before {earliest.isoformat()}" in str(error)


def test_first_visit_and_discharge_cannot_predate_1990() -> None:
    # Not reachable through referral_date ordering alone: check the fields' own floor.
    for field in ("first_visit_date", "discharge_date"):
        error = refused(Episode, **{field: "1989-12-31"})
        assert error.field == field and "before 1990-01-01" in str(error)


def test_a_follow_up_more_than_five_years_ahead_is_refused() -> None:
    assert check(Touchpoint, next_follow_up="2031-11-22").next_follow_up == date(2031, 11, 22)
    error = refused(Touchpoint, next_follow_up="9999-12-31")
    assert error.field == "next_follow_up" and "five years" in str(error)


# --- digits ---------------------------------------------------------------------------------

NON_ASCII_DIGITS = [
    "\uff15",  # full-width 5
    "\u0665",  # Arabic-Indic 5
    "\u06f5",  # Extended Arabic-Indic (Persian) 5
    "\u0967",  # Devanagari 1
    "\u00b2",  # superscript 2 (isdigit() is True, int() fails)
    "1\uff10",  # 1 then full-width 0
]


@pytest.mark.parametrize("text", NON_ASCII_DIGITS)
def test_visits_nps_and_amounts_take_ascii_digits_only(text: str) -> None:
    error = refused(Episode, visits=text)
    assert error.field == "visits" and "digits 0-9" in str(error)
    error = refused(NpsResponse, score=text)
    assert error.field == "score" and "digits 0-9" in str(error)
    error = refused(Touchpoint, amount=text)
    assert error.field == "amount" and "digits 0-9" in str(error)


@pytest.mark.parametrize(("text", "value"), [("0", 0), (" 12 ", 12), ("1000", 1000), (7, 7)])
def test_ascii_visits_are_read(text: Any, value: int) -> None:
    assert check(Episode, visits=text).visits == value


@pytest.mark.parametrize("bad", ["1001", "-1", "1.5", "twelve", True, 2.5])
def test_bad_visits(bad: Any) -> None:
    assert refused(Episode, visits=bad).field == "visits"


@pytest.mark.parametrize(("text", "value"), [("30", 30.0), ("30.50", 30.5), (".5", 0.5),
                                             (12, 12.0)])
def test_ascii_amounts_are_read(text: Any, value: float) -> None:
    assert check(Touchpoint, amount=text).amount == value


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("10", 10), (" 9 ", 9)])
def test_ascii_nps_scores_are_read(text: str, value: int) -> None:
    assert check(NpsResponse, score=text).score == value


@given(st.text(st.characters(categories=("Nd", "No", "Nl")), min_size=1, max_size=3))
def test_no_unicode_number_but_ascii_digits_passes(text: str) -> None:
    if text.isascii():
        return  # ASCII digits are the accepted case, tested above
    for model, field in ((Episode, "visits"), (NpsResponse, "score"), (Touchpoint, "amount")):
        with pytest.raises(ValidationError):
            check(model, **{field: text})


# --- through the importer: a clear message naming file, line and column ------------------------

PARTNERS = "name,npi,kind\nDr. Ada Lovelace,1234567893,pcp\n"
REFERRAL = "episode_id,patient_id,partner_npi,referral_date,body_region\n" \
           "E1,MRN1,1234567893,2026-01-05,knee\n"
ZERO_DATE_ROWS = {  # kind -> (file text with 0001-01-01 in a date column, that column)
    "referrals": ("episode_id,patient_id,partner_npi,referral_date,body_region\n"
                  "E2,MRN2,1234567893,0001-01-01,knee\n", "referral_date"),
    "touchpoints": ("partner_npi,date,method\n1234567893,0001-01-01,call\n", "date"),
    "outbound": ("episode_id,partner_npi,date,reason\nE1,1234567893,0001-01-01,imaging\n",
                 "date"),
    "nps": ("episode_id,date,score\nE1,0001-01-01,9\n", "date"),
    "responses": ("episode_id,instrument,timepoint,date,score\nE1,odi,intake,0001-01-01,40\n",
                  "date"),
}


@pytest.fixture
def small_clinic(db: Database, tmp_path: Path) -> Database:
    for kind, text in (("partners", PARTNERS), ("referrals", REFERRAL)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        run_import(db, kind, path, today=TODAY)
    return db


@pytest.mark.parametrize("kind", sorted(ZERO_DATE_ROWS))
def test_the_zero_date_is_refused_in_every_kind(small_clinic: Database, tmp_path: Path,
                                                kind: str) -> None:
    text, column = ZERO_DATE_ROWS[kind]
    path = tmp_path / f"zero-{kind}.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        run_import(small_clinic, kind, path, today=TODAY)
    (error,) = failed.value.report.errors
    assert (error.line, error.column) == (2, column)
    assert "0001-01-01 is before" in error.message
    assert str(path) in str(error)


def test_birth_date_before_1900_is_refused_on_import(small_clinic: Database,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("episode_id,patient_id,referral_date,body_region,birth_date\n"
                    "E3,MRN3,2026-01-05,knee,1899-12-31\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        run_import(small_clinic, "referrals", path, today=TODAY)
    (error,) = failed.value.report.errors
    assert (error.line, error.column) == (2, "birth_date")
    assert "before 1900-01-01" in error.message


def test_a_control_character_in_an_imported_name_names_line_and_column(
        db: Database, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("name,kind\nDr. A,pcp\nDr. \x1b]0;pwned\x07B,pcp\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        run_import(db, "partners", path, today=TODAY)
    (error,) = failed.value.report.errors
    assert (error.line, error.column) == (3, "name")
    assert "control character (\\x1b)" in error.message
    assert db.execute("SELECT count(*) FROM partners").fetchone()[0] == 0


@pytest.mark.parametrize("visits", ["\uff15", "\u0665", "\u00b2"])
def test_imported_visits_take_ascii_digits_only(small_clinic: Database, tmp_path: Path,
                                                visits: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text("episode_id,patient_id,referral_date,body_region,visits\n"
                    f"E4,MRN4,2026-01-05,knee,{visits}\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        run_import(small_clinic, "referrals", path, today=TODAY)
    (error,) = failed.value.report.errors
    assert (error.line, error.column) == (2, "visits")


@pytest.mark.parametrize("score", ["\uff19", "\u0669"])
def test_imported_nps_scores_take_ascii_digits_only(small_clinic: Database, tmp_path: Path,
                                                    score: str) -> None:
    path = tmp_path / "n.csv"
    path.write_text(f"episode_id,date,score\nE1,2026-01-05,{score}\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        run_import(small_clinic, "nps", path, today=TODAY)
    (error,) = failed.value.report.errors
    assert (error.line, error.column) == (2, "score")
    assert "digits 0-9" in error.message


# --- properties -------------------------------------------------------------------------------

plain = st.text(st.characters(exclude_categories=("Cc", "Cs"), exclude_characters=(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")),
    min_size=1, max_size=80).filter(lambda t: t.strip())


@given(st.sampled_from(LINE_FIELDS), plain)
def test_any_plain_name_within_the_cap_is_kept(case: tuple[type[BaseModel], str, int],
                                               text: str) -> None:
    model, field, cap = case
    assume(len(text.strip()) <= cap)  # within the cap (the phone's is 40)
    assert getattr(check(model, **{field: text}), field) == text.strip()


@given(st.sampled_from(FREE_FIELDS), st.text(min_size=1, max_size=300).filter(str.strip))
def test_any_free_text_within_the_cap_is_kept_as_typed(
        case: tuple[type[BaseModel], str, int], text: str) -> None:
    model, field, _ = case
    assert getattr(check(model, **{field: text}), field) == text.strip()
