"""Dates people type: ISO and US forms are read, anything ambiguous or impossible is refused."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes.dates import parse_date
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
        assert isinstance(value, date) and value <= REF
