"""Front-desk leakage: business days, the unscheduled-referral alert at its edges, the funnel."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.network.alerts import compute_alerts
from outcomes.network.frontdesk import NO_REASON, business_days_after, unscheduled
from outcomes.periods import RECENT_DAYS, Period, split_months, whole_days
from outcomes.reports.rollups import funnels
from outcomes.store import settings
from tests.network.helpers import TODAY, add_partner, add_referral

MON = date(2026, 6, 8)
assert MON.weekday() == 0 and TODAY.weekday() == 0  # TODAY (2026-06-15) is a Monday too


@pytest.mark.parametrize(("start", "end", "expected"), [
    (MON, MON, 0),                                   # the day it arrived does not count
    (MON, MON - timedelta(days=3), 0),               # backwards: nothing
    (MON, MON + timedelta(days=1), 1),               # Tuesday is business day 1
    (MON, MON + timedelta(days=3), 3),               # Thursday is business day 3
    (MON, MON + timedelta(days=5), 4),               # Saturday adds nothing
    (MON, MON + timedelta(days=7), 5),               # next Monday
    (MON + timedelta(days=4), MON + timedelta(days=7), 1),   # Friday -> Monday
    (MON + timedelta(days=4), MON + timedelta(days=9), 3),   # Friday -> Wednesday
    (MON + timedelta(days=5), MON + timedelta(days=7), 1),   # Saturday -> Monday
    (MON, MON + timedelta(days=28), 20),             # four whole weeks
])
def test_business_days_after(start: date, end: date, expected: int) -> None:
    assert business_days_after(start, end) == expected


@given(start=st.dates(date(2020, 1, 1), date(2030, 1, 1)), days=st.integers(-10, 400))
def test_business_days_match_counting_day_by_day(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    brute = sum((start + timedelta(days=i)).weekday() < 5 for i in range(1, days + 1))
    assert business_days_after(start, end) == brute


def unscheduled_ids(db: Database) -> list[str]:
    return [a.episode_id or "" for a in compute_alerts(db, TODAY)
            if a.kind == "referral_unscheduled"]


def test_alert_after_the_third_business_day_not_on_it(db: Database) -> None:
    pid = add_partner(db, "Dr. Refer")
    on_day_3 = add_referral(db, pid, TODAY - timedelta(days=5))    # Wednesday: Thu, Fri, Mon
    on_day_4 = add_referral(db, pid, TODAY - timedelta(days=6))    # Tuesday: 4 business days
    friday = add_referral(db, pid, TODAY - timedelta(days=3))      # Friday: Monday is day 1
    assert unscheduled_ids(db) == [on_day_4]
    alert = next(a for a in compute_alerts(db, TODAY) if a.episode_id == on_day_4)
    assert alert.partner_id == pid and alert.severity == "medium"
    assert alert.evidence == {"episode_id": on_day_4, "referral_date": "2026-06-09",
                              "business_days": 4, "allowed_business_days": 3}
    assert "not scheduled after 4 business days" in alert.message
    settings.set_value(db, "schedule_within_business_days", 2)
    assert unscheduled_ids(db) == [on_day_4, on_day_3]
    settings.set_value(db, "schedule_within_business_days", 4)
    assert unscheduled_ids(db) == []
    assert friday not in unscheduled_ids(db)


def test_scheduled_closed_and_old_referrals_are_silent(db: Database) -> None:
    pid = add_partner(db, "Dr. Refer")
    add_referral(db, pid, TODAY - timedelta(days=20), status="scheduled")
    add_referral(db, pid, TODAY - timedelta(days=20), status="not_scheduled")
    add_referral(db, pid, TODAY - timedelta(days=20), status="cancelled")
    seen = add_referral(db, pid, TODAY - timedelta(days=20), first_visit=TODAY)
    db.execute("UPDATE episodes SET status = 'received' WHERE id = ?", [seen])  # a stale status
    last_day = add_referral(db, pid, TODAY - timedelta(days=RECENT_DAYS - 1))
    add_referral(db, pid, TODAY - timedelta(days=RECENT_DAYS))     # outside the window
    assert unscheduled_ids(db) == [last_day]


def test_self_referred_and_long_waits(db: Database) -> None:
    eid = add_referral(db, None, TODAY - timedelta(days=14))        # 10 business days
    [alert] = [a for a in compute_alerts(db, TODAY) if a.kind == "referral_unscheduled"]
    assert alert.partner_id is None and alert.episode_id == eid
    assert "(self-referred)" in alert.message and alert.severity == "high"
    assert [u.business_days for u in unscheduled(db, TODAY, 3)] == [10]


def test_funnel_counts_each_stage_and_the_reasons(db: Database) -> None:
    a = add_partner(db, "Dr. A")
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    d = date(2026, 2, 1)
    add_referral(db, a, d)                                                      # waiting
    add_referral(db, a, d, status="scheduled")
    add_referral(db, a, d, status="evaluated", first_visit=d)
    add_referral(db, a, d, status="in_care", first_visit=d)
    add_referral(db, a, d, status="discharged", first_visit=d, discharge=d)
    selfdc = add_referral(db, a, d, status="discharged", first_visit=d, discharge=d)
    db.execute("UPDATE episodes SET discharge_reason = 'self_discharged' WHERE id = ?", [selfdc])
    for reason in ("no answer", "no answer", "insurance", "  ", None):
        eid = add_referral(db, a, d, status="not_scheduled")
        db.execute("UPDATE episodes SET status_reason = ? WHERE id = ?", [reason, eid])
    add_referral(db, a, d, status="cancelled")
    add_referral(db, a, period.start)                                          # first day: in
    add_referral(db, a, period.start - timedelta(days=1), status="scheduled")  # before: out
    add_referral(db, a, period.end + timedelta(days=1))                        # after: out
    add_referral(db, None, period.end, status="evaluated", first_visit=period.end)
    result = funnels(db, split_months(period.start, period.end))
    assert result == funnels(db, whole_days(period))  # the roll-ups read as the episodes
    assert result[a].as_dict() == {
        "received": 13, "scheduled": 5, "evaluated": 4, "completed": 2, "self_discharged": 1,
        "waiting": 2, "cancelled": 1,
        "not_scheduled": {"no answer": 2, NO_REASON: 2, "insurance": 1}}
    assert list(result[a].not_scheduled) == ["no answer", NO_REASON, "insurance"]
    assert result[None].as_dict()["evaluated"] == 1 and result[None].received == 1


def test_funnel_stages_never_grow(db: Database) -> None:
    a = add_partner(db, "Dr. A")
    statuses = ["received", "scheduled", "evaluated", "in_care", "discharged",
                "not_scheduled", "cancelled"]
    for i, status in enumerate(statuses * 3):
        first = date(2026, 2, 1) if status in ("evaluated", "in_care", "discharged") else None
        add_referral(db, a, date(2026, 2, 1) + timedelta(days=i), status=status,
                     first_visit=first)
    f = funnels(db, split_months(date(2026, 1, 1), date(2026, 6, 1)))[a]
    assert f.received >= f.scheduled >= f.evaluated >= f.completed
    assert (f.received, f.scheduled, f.evaluated, f.completed) == (21, 12, 9, 3)
