"""Dates people type: ISO and US forms are read, anything ambiguous or impossible is refused."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes.dates import (
    EARLIEST_BIRTH_DATE,
    EARLIEST_CARE_DATE,
    EARLIEST_DATE,
    parse_date,
    parse_optional_date,
)
from outcomes.errors import ValidationError

REF = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04", date(2026, 3, 4)),  # ISO
        ("2026/03/04", date(2026, 3, 4)),  # ISO with slashes
        ("03/04/2026", date(2026, 3, 4)),  # US month first
        ("3/4/2026", date(2026, 3, 4)),  # US without zero padding
        ("12-31-2025", date(2025, 12, 31)),  # US with dashes
        ("Mar 4 2026", date(2026, 3, 4)),  # month name
        ("4 March 2026", date(2026, 3, 4)),  # day month year, unambiguous with a name
        ("March 4, 2026", date(2026, 3, 4)),
        (" 2026-03-04 ", date(2026, 3, 4)),  # surrounding spaces from spreadsheets
    ],
)
def test_accepted_forms(text: str, expected: date) -> None:
    assert parse_date(text, reference=REF) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("3/4/26", "four-digit year"),  # century is a guess
        ("25/03/2026", "day-first"),  # not a US date
        ("March 2026", "missing"),  # no day
        ("2026-02-29", "not a real date"),  # 2026 is not a leap year
        ("13/13/2026", "not a real date"),
        ("yesterday", "not a date"),
        ("", "empty"),
        ("2026-11-23", "future"),  # one day after the reference
    ],
)
def test_refused_forms(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        parse_date(text, reference=REF)


def test_future_allowed_when_asked() -> None:
    assert parse_date("2027-01-01", allow_future=True) == date(2027, 1, 1)


@given(st.dates(min_value=date(1900, 1, 1), max_value=REF))
def test_iso_and_us_forms_round_trip(day: date) -> None:
    assert parse_date(day.isoformat(), reference=REF) == day
    assert parse_date(f"{day.month}/{day.day}/{day.year}", reference=REF) == day
    assert parse_date(day.strftime("%b %d %Y"), reference=REF) == day


@given(st.text(max_size=40))
def test_any_text_is_a_date_or_a_clear_error(text: str) -> None:
    try:
        value = parse_date(text, reference=REF)
    except ValidationError as exc:
        assert str(exc)
    else:
        assert isinstance(value, date) and EARLIEST_DATE <= value <= REF


# --- plausible ranges -------------------------------------------------------------------------


def test_the_published_floors() -> None:
    assert EARLIEST_DATE == EARLIEST_BIRTH_DATE == date(1900, 1, 1)
    assert date(1990, 1, 1) == EARLIEST_CARE_DATE


@pytest.mark.parametrize("text", ["0001-01-01", "1/1/0001", "Jan 1 0001", "1899-12-31"])
def test_the_zero_date_of_exports_is_refused_everywhere(text: str) -> None:
    with pytest.raises(ValidationError, match="before 1900-01-01"):
        parse_date(text, reference=REF)
    with pytest.raises(ValidationError, match="before 1900-01-01"):
        parse_date(text, reference=REF, allow_future=True)


@pytest.mark.parametrize(
    ("value", "earliest", "ok"),
    [
        (date(1900, 1, 1), EARLIEST_DATE, True),  # the floor itself
        (date(1899, 12, 31), EARLIEST_DATE, False),  # the day before
        (date(1990, 1, 1), EARLIEST_CARE_DATE, True),
        (date(1989, 12, 31), EARLIEST_CARE_DATE, False),
        (date(1990, 1, 2), EARLIEST_CARE_DATE, True),
    ],
)
def test_floor_boundaries(value: date, earliest: date, ok: bool) -> None:
    for given_as in (value, value.isoformat()):  # date objects from forms are checked too
        if ok:
            assert parse_date(given_as, reference=REF, earliest=earliest) == value
        else:
            with pytest.raises(ValidationError) as err:
                parse_date(given_as, field="referral_date", reference=REF, earliest=earliest)
            assert str(err.value) == (
                f"referral_date {value.isoformat()} is before {earliest.isoformat()}; "
                "check the year."
            )


def test_optional_dates_have_the_same_floor() -> None:
    assert parse_optional_date("", earliest=EARLIEST_CARE_DATE) is None
    with pytest.raises(ValidationError, match="before 1990-01-01"):
        parse_optional_date("1985-05-05", earliest=EARLIEST_CARE_DATE, reference=REF)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2031-11-23", True),  # five years ahead
        ("2031-11-26", True),  # 5 x 366 days ahead, the last day allowed
        ("2031-11-27", False),
        ("9999-12-31", False),
    ],
)
def test_future_dates_are_at_most_five_years_ahead(text: str, ok: bool) -> None:
    if ok:
        assert parse_date(text, reference=REF, allow_future=True) == date.fromisoformat(text)
    else:
        with pytest.raises(ValidationError, match="more than five years ahead"):
            parse_date(text, reference=REF, allow_future=True)


@given(st.dates(max_value=date(1899, 12, 31)))
def test_every_date_before_1900_is_refused(day: date) -> None:
    with pytest.raises(ValidationError, match="before 1900-01-01"):
        parse_date(day, reference=REF)


# --- ASCII digits only ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "\uff12\uff10\uff12\uff16-01-05",  # full-width 2026-01-05
        "\u0662\u0660\u0662\u0666-01-05",  # Arabic-Indic year
        "01/05/\u0662\u0660\u0662\u0666",  # Arabic-Indic year, US order
        "\u0662\u0660\u0662\u0666/01/05",
        "March \u0665 2025",  # Arabic-Indic day with a month name (dateutil reads it)
        "\u06f1\u06f9\u06f6\u06f0-05-17",  # Extended Arabic-Indic (Persian) digits
        "2025-0\u00b2-01",  # superscript two
    ],
)
def test_non_ascii_digits_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="type dates with the digits 0-9"):
        parse_date(text, reference=REF)
