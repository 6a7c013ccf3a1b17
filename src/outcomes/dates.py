"""Parsing the dates people type: ISO 8601 and common US forms, never a silent guess."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from outcomes.errors import ValidationError

# re.ASCII: without it \d also matches full-width and Arabic-Indic digits, which int() reads.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_NUMERIC = re.compile(r"^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})$", re.ASCII)

# Plausible ranges. No date the app stores is older than EARLIEST_DATE (it catches 0001-01-01,
# the zero date of many exports); birth dates start there too. Everything that happens in care
# (referrals, visits, discharges, touchpoints, responses, surveys, letters) starts at
# EARLIEST_CARE_DATE. A date that may lie ahead (a scheduled visit, a follow-up) is at most
# FUTURE_LIMIT after today.
EARLIEST_DATE = date(1900, 1, 1)
EARLIEST_BIRTH_DATE = EARLIEST_DATE
EARLIEST_CARE_DATE = date(1990, 1, 1)
FUTURE_LIMIT = timedelta(days=5 * 366)
# Two defaults that differ in every field: if parsing with each gives different dates, the text
# left a field out and dateutil would have filled it in silently.
_DEFAULT_A = datetime(2000, 1, 1)  # noqa: DTZ001 - a sentinel, never a point in time
_DEFAULT_B = datetime(2001, 2, 2)  # noqa: DTZ001


def now_iso() -> str:
    """A timestamp for created/updated columns and the audit log (UTC, ISO 8601)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def today() -> date:
    """The clinic's local date (naive on purpose: visit dates are calendar dates)."""
    return date.today()  # noqa: DTZ011


def parse_date(
    text: str | date,
    *,
    field: str = "date",
    allow_future: bool = False,
    reference: date | None = None,
    earliest: date = EARLIEST_DATE,
) -> date:
    """Parse a calendar date.

    Accepts YYYY-MM-DD, YYYY/MM/DD, MM/DD/YYYY (US order) and month names ("Mar 4 2025",
    "4 March 2025"), written with ASCII digits. Rejects two-digit years, day-first numeric dates,
    dates with a missing part, impossible dates, dates before ``earliest`` and dates after
    ``reference`` (today by default), or with ``allow_future`` more than FUTURE_LIMIT after it.
    The range applies to date objects too, so a form that parsed a date itself is checked alike.
    """
    if isinstance(text, datetime):
        value = text.date()
    elif isinstance(text, date):
        value = text
    else:
        value = _parse_text(str(text).strip(), field)
    if value < earliest:
        raise ValidationError(
            f"{field} {value.isoformat()} is before {earliest.isoformat()}; check the year."
        )
    reference = reference or today()
    if not allow_future and value > reference:
        raise ValidationError(f"{field} {value.isoformat()} is in the future.")
    if allow_future and value > reference + FUTURE_LIMIT:
        raise ValidationError(
            f"{field} {value.isoformat()} is more than five years ahead; check the year."
        )
    return value


def _parse_text(raw: str, field: str) -> date:
    if not raw:
        raise ValidationError(f"{field} is empty.")
    # str.isdigit/isnumeric and dateutil accept full-width, Arabic-Indic and superscript digits;
    # a clinic record is typed with 0-9 and anything else is a paste or a bad export.
    if not raw.isascii():
        for char in raw:
            if char.isnumeric():
                raise ValidationError(
                    f"{field} {raw!r} has the digit {char!r} (U+{ord(char):04X}); "
                    "type dates with the digits 0-9."
                )
    if _ISO.match(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValidationError(f"{field} {raw!r} is not a real date.") from None
    numeric = _NUMERIC.match(raw)
    if numeric:
        return _parse_numeric(raw, field, *numeric.groups())
    if re.search(r"\b\d{1,2}\b[^\d]*$", raw, re.ASCII) and not re.search(r"\d{4}", raw, re.ASCII):
        raise ValidationError(f"{field} {raw!r} has no four-digit year; write it as YYYY-MM-DD.")
    # Imported here, not at the top: only month names need it, and every start of the dashboard
    # imports this module for today() (dateutil costs ~35 ms before the first paint).
    from dateutil import parser as _dateutil

    try:
        a = _dateutil.parse(raw, default=_DEFAULT_A, dayfirst=False, yearfirst=False)
        b = _dateutil.parse(raw, default=_DEFAULT_B, dayfirst=False, yearfirst=False)
    except (ValueError, OverflowError):
        raise ValidationError(
            f"{field} {raw!r} is not a date I can read; write it as YYYY-MM-DD."
        ) from None
    if a != b:
        raise ValidationError(f"{field} {raw!r} is missing a day, month or year.")
    if (a.hour, a.minute, a.second) != (0, 0, 0):
        raise ValidationError(f"{field} {raw!r} has a time of day; give a date only.")
    # dateutil reads the years 0001-0099 as 2001-2099 ("Jan 1 0001" -> 2001-01-01): take the
    # year as written so that the range check sees it.
    years = re.findall(r"\b\d{4}\b", raw, re.ASCII)
    if len(years) == 1 and int(years[0]) != a.year:
        try:
            return a.date().replace(year=int(years[0]))
        except ValueError:
            raise ValidationError(f"{field} {raw!r} is not a real date.") from None
    return a.date()


def _parse_numeric(raw: str, field: str, first: str, second: str, third: str) -> date:
    if len(first) == 4:  # YYYY/MM/DD
        year, month, day = int(first), int(second), int(third)
    elif len(third) == 4:  # US order MM/DD/YYYY
        month, day, year = int(first), int(second), int(third)
        if month > 12 and day <= 12:
            raise ValidationError(
                f"{field} {raw!r} looks day-first; this app reads MM/DD/YYYY, "
                "so write it as YYYY-MM-DD."
            )
    else:
        raise ValidationError(f"{field} {raw!r} has no four-digit year; write it as YYYY-MM-DD.")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationError(f"{field} {raw!r} is not a real date.") from None


def parse_optional_date(
    text: str | date | None, *, field: str = "date", allow_future: bool = False,
    reference: date | None = None, earliest: date = EARLIEST_DATE,
) -> date | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    return parse_date(text, field=field, allow_future=allow_future, reference=reference,
                      earliest=earliest)


AGE_BANDS = ((0, 17), (18, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79), (80, 89))
"""Age bands in whole years (HIPAA Safe Harbor stops at 89: older is '90+'). The risk model,
the group edition and the stored ``episodes.age_band`` (``store.schema.age_band_sql``) use
these."""


def age_on(birth: date, on: date) -> int:
    """Age in whole years on ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_band(birth: date | None, on: date) -> str | None:
    """The age band on ``on`` ('0-17', '18-29', ... '80-89', '90+'); None without a birth
    date or with one after ``on``."""
    if birth is None or birth > on:
        return None
    age = age_on(birth, on)
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return "90+"
