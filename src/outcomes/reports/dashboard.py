"""The dashboard's numbers: referrals this month against last month and a year ago, active
partners, the MCID rate and NPS of the last 12 months, referrals per month. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from outcomes.periods import add_months, default_period, month_start, recent_window, same_day
from outcomes.reports.rollups import (
    Rate,
    active_partners,
    clinic_mcid,
    nps_between,
    referrals_per_month,
)
from outcomes.reports.statistics import Nps

if TYPE_CHECKING:
    from outcomes.store.database import Queryable


@dataclass(frozen=True)
class DashboardSummary:
    """The dashboard's numbers on ``today``: referrals this month against last month and a year
    ago, active partners and NPS."""

    today: date
    month_to_date: int
    """Referrals from the 1st of this month to today."""
    last_month_same_days: int
    """Referrals in the same days (1st to today's day) of last month."""
    last_month_total: int
    year_ago_same_days: int
    """Referrals in the same days of the same month a year ago."""
    year_ago_total: int
    active_partners: int
    """Partners with at least one referral in the last 90 days."""
    partners_total: int
    mcid: Rate | None
    """Episodes referred in the last 12 months whose MCID could be judged, and how many reached
    it (see :func:`clinic_mcid`); None when not asked for (``with_mcid=False``)."""
    nps: Nps
    """NPS answers dated in the last 12 months."""
    per_month: list[tuple[str, int]] = field(default_factory=list)


def _count_referrals(db: Queryable, start: date, end: date) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM episodes WHERE referral_date >= ? AND referral_date <= ?",
            [start.isoformat(), end.isoformat()],
        ).fetchone()[0]
    )


def dashboard_mcid(db: Queryable, today: date) -> Rate:
    """The dashboard's MCID rate: episodes referred in the last 12 months (the slowest number of
    the summary, ~60 ms on 250,000 episodes, so the dashboard reads it on a second thread)."""
    period = default_period(today)
    return clinic_mcid(db, period.start, period.end)


def dashboard_summary(db: Queryable, today: date, *, with_mcid: bool = True) -> DashboardSummary:
    """The numbers at the top of the dashboard, all relative to ``today``."""
    this_month = month_start(today)
    last_month = add_months(today, -1)
    year_ago = add_months(today, -12)
    year = default_period(today)
    recent = recent_window(today)
    active = active_partners(db, recent.start, recent.end)
    return DashboardSummary(
        today=today,
        month_to_date=_count_referrals(db, this_month, today),
        last_month_same_days=_count_referrals(db, last_month, same_day(last_month, today.day)),
        last_month_total=_count_referrals(db, last_month, this_month - timedelta(days=1)),
        year_ago_same_days=_count_referrals(db, year_ago, same_day(year_ago, today.day)),
        year_ago_total=_count_referrals(
            db, year_ago, add_months(year_ago, 1) - timedelta(days=1)
        ),
        active_partners=int(active),
        partners_total=int(db.execute("SELECT count(*) FROM partners").fetchone()[0]),
        mcid=dashboard_mcid(db, today) if with_mcid else None,
        nps=nps_between(db, year.start, year.end),
        per_month=referrals_per_month(db, today, 24),
    )


def database_version(db: Queryable) -> int:
    """A number that changes whenever another connection commits to the database (SQLite's
    ``PRAGMA data_version``, per connection: ask the same connection each time). The dashboard
    asks on coming back to the screen, and reads everything again only when something was
    written meanwhile, by this app or another process."""
    return int(db.execute("PRAGMA data_version").fetchone()[0])

