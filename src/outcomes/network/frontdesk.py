"""The clinic's own front desk: referrals received and not scheduled, and the referral funnel.

A referral the clinic never schedules is lost as surely as one the partner never sends, and it is
the one loss the clinic controls. Two pure reads:

- :func:`unscheduled` lists referrals of the last ``RECENT_DAYS`` days still at status
  ``received`` (no scheduled date, no first visit) more than N business days after they arrived
  (setting ``schedule_within_business_days``). Business days are Monday to Friday; public
  holidays are not known to the app, so a referral that spans one is flagged a day early.
- :class:`Funnel` holds, per partner, the referrals of a period that were received, scheduled,
  evaluated and completed, and why the rest were not scheduled (for the scorecard); its stages
  are ``store.funnel_rules``, and ``reports.rollups.funnels`` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from outcomes.periods import recent_window

if TYPE_CHECKING:
    from sqlite_utils import Database

NO_REASON = "no reason given"


def business_days_after(start: date, end: date) -> int:
    """Weekdays ``d`` with ``start < d <= end`` (0 when ``end <= start``).

    Received on a Monday, Tuesday is business day 1 and Thursday business day 3."""
    days = (end - start).days
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    return weeks * 5 + sum((start + timedelta(days=i)).weekday() < 5 for i in range(1, rest + 1))


@dataclass(frozen=True)
class Unscheduled:
    """A referral with no first visit booked after more business days than allowed."""

    episode_id: str
    partner_id: int | None
    referral_date: str
    business_days: int
    """Business days since the referral arrived (more than the allowed number)."""
    allowed: int


def unscheduled(db: Database, today: date, within: int) -> list[Unscheduled]:
    """Referrals still waiting to be scheduled more than ``within`` business days after they
    arrived, oldest first. Only the last ``RECENT_DAYS`` days are read: an older referral still
    at 'received' is a record to close, not a patient the front desk can still call."""
    window = recent_window(today)
    out = []
    for eid, pid, received in db.execute(
        "SELECT id, partner_id, referral_date FROM episodes WHERE status = 'received'"
        " AND scheduled_date IS NULL AND first_visit_date IS NULL"
        " AND referral_date BETWEEN ? AND ? ORDER BY referral_date, id", list(window.iso()),
    ):
        waited = business_days_after(date.fromisoformat(received), today)
        if waited > within:
            out.append(Unscheduled(eid, pid, received, waited, within))
    return out


@dataclass
class Funnel:
    """One partner's referrals of a period, by how far they got. Each stage counts the
    referrals that reached it or went further, so the stages only ever shrink."""

    received: int = 0
    scheduled: int = 0
    """Given an appointment (status scheduled or later, or a scheduled or first-visit date)."""
    evaluated: int = 0
    """Seen at least once (status evaluated or later, or a first-visit date)."""
    completed: int = 0
    """Discharged (any discharge reason; self-discharges are also in ``self_discharged``)."""
    self_discharged: int = 0
    waiting: int = 0
    """Still at status received."""
    cancelled: int = 0
    not_scheduled: dict[str, int] = field(default_factory=dict)
    """Referrals closed as not scheduled, by reason ("no reason given" when blank)."""

    def as_dict(self) -> dict[str, object]:
        return {"received": self.received, "scheduled": self.scheduled,
                "evaluated": self.evaluated, "completed": self.completed,
                "self_discharged": self.self_discharged, "waiting": self.waiting,
                "cancelled": self.cancelled, "not_scheduled": dict(self.not_scheduled)}


__all__ = ["NO_REASON", "Funnel", "Unscheduled", "business_days_after", "unscheduled"]
