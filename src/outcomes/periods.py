"""Every period rule of the app, defined once: what "the last 12 months" means, the alert and
stage windows, and how a period is cut into whole calendar months (read from the monthly
roll-ups) and edge days (read from the raw rows).

Periods are inclusive calendar-date ranges ``[start, end]``. "The last N days" ending today is
``[today - (N - 1), today]``, the same days as the half-open ``(today - N, today]`` the SQL of
the alerts uses. The dashboard, the scorecard, packets, the partner screen and the alerts all take
their windows from here, so one partner never gets two different numbers for "the last 12
months" from the two faces of the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from outcomes.errors import ValidationError

YEAR_DAYS = 365
"""The default reporting period: the 365 days ending today (both days included)."""

RECENT_DAYS = 90
"""The recent window of stage suggestions, alerts and the partner table's "90 d" column."""

BASELINE_DAYS = 365
"""The baseline a recent window is compared with: the 365 days before it."""

DORMANT_AFTER_DAYS = 180
"""A partner whose last referral is older than this is dormant."""


@dataclass(frozen=True)
class Period:
    """An inclusive range of calendar dates."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValidationError(f"the period starts ({self.start}) after it ends ({self.end}).")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def iso(self) -> tuple[str, str]:
        return self.start.isoformat(), self.end.isoformat()

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def last_days(today: date, days: int) -> Period:
    """The ``days`` days ending ``today`` (inclusive)."""
    return Period(today - timedelta(days=days - 1), today)


def default_period(today: date) -> Period:
    """"The last 12 months": the 365 days ending today. Used by every report and both faces."""
    return last_days(today, YEAR_DAYS)


def recent_window(today: date) -> Period:
    """The last 90 days."""
    return last_days(today, RECENT_DAYS)


def baseline_window(today: date) -> Period:
    """The 365 days before the recent window."""
    end = today - timedelta(days=RECENT_DAYS)
    return last_days(end, BASELINE_DAYS)


def check_period(start: date, end: date) -> Period:
    """A Period, or a ValidationError saying the period runs backwards."""
    return Period(start, end)


# --- months ------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return add_months(day, 1) - timedelta(days=1)


def month_keys(today: date, months: int) -> list[str]:
    """'YYYY-MM' for the ``months`` months ending with today's month, oldest first."""
    first = add_months(today, -(months - 1))
    return [add_months(first, i).strftime("%Y-%m") for i in range(months)]


def months_between(start: date, end: date) -> list[str]:
    """'YYYY-MM' of every month that ``[start, end]`` touches, oldest first."""
    keys = []
    current = month_start(start)
    while current <= end:
        keys.append(current.strftime("%Y-%m"))
        current = add_months(current, 1)
    return keys


def same_day(month_first: date, day: int) -> date:
    """``day`` in the month starting ``month_first``, clamped to the month's last day."""
    return month_first.replace(day=min(day, month_end(month_first).day))


@dataclass(frozen=True)
class Split:
    """A period cut into whole calendar months (read from the monthly roll-up tables) and the
    days left over at either edge (read from the raw rows)."""

    months: tuple[str, str] | None
    """First and last whole month, 'YYYY-MM', or None when no whole month fits."""
    edges: tuple[tuple[str, str], ...]
    """Inclusive ISO day ranges outside the whole months."""

    def edge_sql(self, column: str) -> tuple[str, list[str]]:
        """``(column BETWEEN ? AND ?) OR ...`` for the edges ("0" when there are none)."""
        if not self.edges:
            return "0", []
        sql = " OR ".join(f"{column} BETWEEN ? AND ?" for _ in self.edges)
        return f"({sql})", [d for edge in self.edges for d in edge]

    def month_params(self) -> list[str]:
        """The whole months as a BETWEEN range ('' to '' matches nothing when there are none)."""
        return list(self.months) if self.months else ["", ""]


def split_months(start: date, end: date) -> Split:
    """Cut ``[start, end]`` (inclusive) into whole months and edge days."""
    if start > end:
        return Split(None, ())
    whole_first = start if start.day == 1 else add_months(start, 1)
    whole_last = end if end == month_end(end) else month_start(end) - timedelta(days=1)
    if whole_first > whole_last:
        return Split(None, ((start.isoformat(), end.isoformat()),))
    edges = []
    if start < whole_first:
        edges.append((start.isoformat(), (whole_first - timedelta(days=1)).isoformat()))
    if whole_last < end:
        edges.append(((whole_last + timedelta(days=1)).isoformat(), end.isoformat()))
    return Split((whole_first.strftime("%Y-%m"), whole_last.strftime("%Y-%m")), tuple(edges))


def whole_days(period: Period) -> Split:
    """The period read from raw rows only (no roll-ups): the reference the roll-ups are tested
    against."""
    return Split(None, (period.iso(),))


__all__ = [
    "BASELINE_DAYS",
    "DORMANT_AFTER_DAYS",
    "RECENT_DAYS",
    "YEAR_DAYS",
    "Period",
    "Split",
    "add_months",
    "baseline_window",
    "check_period",
    "default_period",
    "last_days",
    "month_end",
    "month_keys",
    "month_start",
    "months_between",
    "recent_window",
    "same_day",
    "split_months",
    "whole_days",
]
