"""Relationship health per partner: volume, conversion, the two-way ledger, last touch, stage.

Every function takes an explicit ``today`` so results are reproducible. Windows are half-open on
the left: "the last 90 days" is ``today - 90 < date <= today``.

Stage suggestion (the user's choice always wins; see docs/network.md):

- never referred: ``active`` if the clinic sent them a patient in the last 180 days (a
  receiving partner), ``outreach`` if anyone has been in touch, else ``prospect``;
- last referral more than 180 days ago: ``dormant``;
- ``growing`` when either the last 90 days against the 365 days before, or the last 365 days
  against the 365 before those, shows a rise of at least 1.25 times (at least 3 referrals in
  the recent window) that is not noise (one-sided exact test of two Poisson rates, p < 0.01);
- at least 12 referrals in the last 365 days and referring for over a year: ``mature``;
- otherwise ``active``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from statistics import median
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.network.partners import get_partner
from outcomes.store import audit
from outcomes.store.database import transaction

RECENT_DAYS = 90
BASELINE_DAYS = 365
DORMANT_AFTER_DAYS = 180
GROWING_MIN_RECENT = 3
GROWING_RATIO = 1.25
GROWING_ALPHA = 0.01
MATURE_MIN_YEAR = 12
CONVERTED = ("evaluated", "in_care", "discharged")


@dataclass(frozen=True)
class Activity:
    """The counts stage suggestion is computed from."""

    referrals_total: int
    referrals_recent: int      # last 90 days
    referrals_baseline: int    # the 365 days before those 90
    referrals_year: int        # last 365 days
    referrals_prior_year: int  # the 365 days before the last 365
    first_referral: date | None
    last_referral: date | None
    touches_total: int
    outbound_recent: int = 0   # outbound referrals to the partner in the last 180 days


@dataclass(frozen=True)
class PartnerStats:
    partner_id: int
    name: str
    npi: str | None
    kind: str
    stage: str
    stage_source: str
    suggested_stage: str
    referrals_total: int
    referrals_last_90: int
    referrals_per_30d_recent: float
    referrals_per_30d_baseline: float
    converted: int
    closed: int
    conversion_rate: float | None
    median_days_to_first_visit: float | None
    ledger_in: int
    ledger_out: int
    last_touch: date | None
    last_referral: date | None
    first_referral: date | None
    communications_owed: list[str]
    spend_this_year: float

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_touch", "last_referral", "first_referral"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (stable for large n)."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0:
        return 1.0
    if p >= 1:
        return 0.0
    lp, lq = math.log(p), math.log1p(-p)
    total = 0.0
    for i in range(k + 1):
        total += math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                          + i * lp + (n - i) * lq)
    return min(1.0, total)


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def activity(db: Database, partner_id: int, today: date) -> Activity:
    recent_start = (today - timedelta(days=RECENT_DAYS)).isoformat()
    base_start = (today - timedelta(days=RECENT_DAYS + BASELINE_DAYS)).isoformat()
    year_start = (today - timedelta(days=BASELINE_DAYS)).isoformat()
    prior_start = (today - timedelta(days=2 * BASELINE_DAYS)).isoformat()
    t = today.isoformat()
    row = db.execute(
        "SELECT count(*),"
        " sum(referral_date > ? AND referral_date <= ?),"
        " sum(referral_date > ? AND referral_date <= ?),"
        " sum(referral_date > ? AND referral_date <= ?),"
        " sum(referral_date > ? AND referral_date <= ?),"
        " min(referral_date), max(referral_date)"
        " FROM episodes WHERE partner_id = ? AND referral_date <= ?",
        [recent_start, t, base_start, recent_start, year_start, t, prior_start, year_start,
         partner_id, t],
    ).fetchone()
    touches = db.execute(
        "SELECT count(*) FROM touchpoints WHERE partner_id = ? AND date <= ?", [partner_id, t]
    ).fetchone()[0]
    outbound = db.execute(
        "SELECT count(*) FROM outbound_referrals WHERE partner_id = ? AND date > ? AND date <= ?",
        [partner_id, (today - timedelta(days=DORMANT_AFTER_DAYS)).isoformat(), t],
    ).fetchone()[0]
    return Activity(
        referrals_total=int(row[0]), referrals_recent=int(row[1] or 0),
        referrals_baseline=int(row[2] or 0), referrals_year=int(row[3] or 0),
        referrals_prior_year=int(row[4] or 0), first_referral=_d(row[5]),
        last_referral=_d(row[6]), touches_total=int(touches),
        outbound_recent=int(outbound),
    )


def stage_from_activity(act: Activity, today: date) -> str:
    """The stage a partner's activity suggests (rules in the module docstring)."""
    if act.referrals_total == 0 or act.last_referral is None or act.first_referral is None:
        if act.outbound_recent:
            return "active"
        return "outreach" if act.touches_total else "prospect"
    if (today - act.last_referral).days > DORMANT_AFTER_DAYS:
        return "dormant"
    if (_rising(act.referrals_recent, RECENT_DAYS, act.referrals_baseline, BASELINE_DAYS)
            or _rising(act.referrals_year, BASELINE_DAYS, act.referrals_prior_year,
                       BASELINE_DAYS)):
        return "growing"
    if act.referrals_year >= MATURE_MIN_YEAR and (today - act.first_referral).days > 365:
        return "mature"
    return "active"


def _rising(recent: int, recent_days: int, before: int, before_days: int) -> bool:
    """A clear rise of the recent rate over the earlier one (not noise)."""
    if recent < GROWING_MIN_RECENT:
        return False
    if recent / recent_days < GROWING_RATIO * before / before_days:
        return False
    share = recent_days / (recent_days + before_days)
    p_value = 1 - binomial_cdf(recent - 1, recent + before, share)
    return p_value < GROWING_ALPHA


def suggest_stage(db: Database, partner_id: int, today: date) -> str:
    return stage_from_activity(activity(db, partner_id, today), today)


@dataclass(frozen=True)
class StageChange:
    partner_id: int
    name: str
    stage: str
    suggested: str
    stage_source: str

    @property
    def applies(self) -> bool:
        return self.stage_source == "suggested" and self.stage != self.suggested


def stage_suggestions(db: Database, today: date) -> list[StageChange]:
    """Every partner's stored stage next to the suggested one."""
    return [
        StageChange(r["id"], r["name"], r["stage"], suggest_stage(db, r["id"], today),
                    r["stage_source"])
        for r in db.query("SELECT id, name, stage, stage_source FROM partners ORDER BY name")
    ]


def apply_stage_suggestions(db: Database, today: date) -> list[StageChange]:
    """Set the suggested stage on partners whose stage_source is 'suggested'; return changes.

    Partners whose stage the user chose (stage_source 'user') are never touched."""
    changes = [c for c in stage_suggestions(db, today) if c.applies]
    if not changes:
        return []
    now = now_iso()
    with transaction(db):
        db.conn.executemany(
            "UPDATE partners SET stage = ?, updated_at = ? WHERE id = ? "
            "AND stage_source = 'suggested'",
            [(c.suggested, now, c.partner_id) for c in changes],
        )
        audit.log(db, "update", "partners", stage_suggestions=len(changes),
                  ids=[c.partner_id for c in changes])
    return changes


def last_touch(db: Database, partner_id: int, today: date) -> date | None:
    row = db.execute("SELECT max(date) FROM touchpoints WHERE partner_id = ? AND date <= ?",
                     [partner_id, today.isoformat()]).fetchone()
    return _d(row[0])


def referrals_per_period(db: Database, partner_id: int, today: date,
                         periods: int = 12, days: int = 30) -> list[tuple[date, date, int]]:
    """Inbound referral counts in consecutive ``days``-long periods ending today, oldest first:
    (start exclusive, end inclusive, count)."""
    out = []
    for i in range(periods - 1, -1, -1):
        end = today - timedelta(days=i * days)
        start = end - timedelta(days=days)
        n = db.execute(
            "SELECT count(*) FROM episodes WHERE partner_id = ? AND referral_date > ? "
            "AND referral_date <= ?", [partner_id, start.isoformat(), end.isoformat()],
        ).fetchone()[0]
        out.append((start, end, int(n)))
    return out


def communications_owed(db: Database, partner_id: int, today: date,
                        days: int = RECENT_DAYS) -> list[str]:
    """Episode ids this partner referred that were discharged in the last ``days`` days with
    no communication to the partner for that episode on or after the discharge date."""
    return [
        r[0] for r in db.execute(
            "SELECT e.id FROM episodes e WHERE e.partner_id = ? AND e.status = 'discharged'"
            " AND e.discharge_date > ? AND e.discharge_date <= ?"
            " AND NOT EXISTS (SELECT 1 FROM communications c WHERE c.episode_id = e.id"
            "   AND c.partner_id = e.partner_id AND c.date >= e.discharge_date)"
            " ORDER BY e.discharge_date, e.id",
            [partner_id, (today - timedelta(days=days)).isoformat(), today.isoformat()],
        )
    ]


def partner_stats(db: Database, partner_id: int, today: date) -> PartnerStats:
    from outcomes.network.spend import year_spend

    row = get_partner(db, partner_id)
    act = activity(db, partner_id, today)
    t = today.isoformat()
    conv = db.execute(
        "SELECT sum(status IN ('evaluated','in_care','discharged') OR first_visit_date IS NOT"
        " NULL), sum(status IN ('evaluated','in_care','discharged','not_scheduled','cancelled')"
        " OR first_visit_date IS NOT NULL)"
        " FROM episodes WHERE partner_id = ? AND referral_date <= ?", [partner_id, t],
    ).fetchone()
    converted, closed = int(conv[0] or 0), int(conv[1] or 0)
    waits = [
        (date.fromisoformat(fv) - date.fromisoformat(rd)).days
        for rd, fv in db.execute(
            "SELECT referral_date, first_visit_date FROM episodes WHERE partner_id = ?"
            " AND first_visit_date IS NOT NULL AND referral_date <= ?", [partner_id, t])
    ]
    out_n = db.execute("SELECT count(*) FROM outbound_referrals WHERE partner_id = ? AND date <= ?",
                       [partner_id, t]).fetchone()[0]
    return PartnerStats(
        partner_id=partner_id, name=row["name"], npi=row["npi"], kind=row["kind"],
        stage=row["stage"], stage_source=row["stage_source"],
        suggested_stage=stage_from_activity(act, today),
        referrals_total=act.referrals_total, referrals_last_90=act.referrals_recent,
        referrals_per_30d_recent=round(act.referrals_recent * 30 / RECENT_DAYS, 2),
        referrals_per_30d_baseline=round(act.referrals_baseline * 30 / BASELINE_DAYS, 2),
        converted=converted, closed=closed,
        conversion_rate=round(converted / closed, 3) if closed else None,
        median_days_to_first_visit=float(median(waits)) if waits else None,
        ledger_in=act.referrals_total, ledger_out=int(out_n),
        last_touch=last_touch(db, partner_id, today), last_referral=act.last_referral,
        first_referral=act.first_referral,
        communications_owed=communications_owed(db, partner_id, today),
        spend_this_year=year_spend(db, partner_id, today.year),
    )
