"""Relationship-health alerts: what needs doing now, each with the numbers behind it.

``compute_alerts(db, today)`` returns a list sorted by urgency (most urgent first). Kinds:

- ``spend_limit``: gift/meal spend this calendar year over (most urgent) or near the limit.
- ``detractor``: an NPS answer of 0-6 in the last 30 days.
- ``referrals_declining``: the last 90 days' inbound referrals fell clearly below the partner's
  own rate over the 365 days before. Three guards against noise: at least
  ``MIN_BASELINE`` referrals in the baseline year; a one-sided exact test of the two Poisson
  rates (conditional on the total n, the recent count is Binomial(n, 90/455) when the rate did
  not change) with p < ``ALPHA``; and a real drop (recent rate at most ``MAX_RATIO`` of the
  baseline rate). Conditioning on the total accounts for noise in the baseline too, so a steady
  partner fires about as rarely as ALPHA says (tests check it over many simulated partners).
- ``update_owed``: a referred episode was discharged (or had a progress measure) in the last 90
  days and nothing was sent to the referrer for that episode since. One alert per episode.
- ``first_referral``: a partner's first-ever referral in the last 30 days and no touchpoint or
  communication with them since: thank them.
- ``touch_overdue``: no touchpoint within ``cadence_days[stage]``. Prospects are excluded (they
  are a list to work through, not relationships that lapse); dormant partners use their own,
  longer cadence (a reminder to re-engage).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

from outcomes.network.spend import spend_by_partner
from outcomes.network.stages import binomial_cdf
from outcomes.store import settings

RECENT_DAYS = 90
BASELINE_DAYS = 365
MIN_BASELINE = 24       # referrals in the baseline year: about two a month
ALPHA = 0.01
MAX_RATIO = 0.6
FIRST_REFERRAL_DAYS = 30
UPDATE_WINDOW_DAYS = 90
DETRACTOR_DAYS = 30

# Lower is more urgent.
URGENCY = {
    ("spend_limit", "over"): 0,
    ("detractor", None): 1,
    ("referrals_declining", None): 2,
    ("update_owed", "discharge"): 3,
    ("first_referral", None): 4,
    ("update_owed", "progress"): 5,
    ("spend_limit", "near"): 6,
    ("touch_overdue", None): 7,
}


@dataclass(frozen=True)
class Alert:
    kind: str
    partner_id: int | None
    partner: str | None
    npi: str | None
    message: str
    suggested_action: str
    evidence: dict[str, Any] = field(default_factory=dict)
    episode_id: str | None = None
    urgency: int = 9
    severity: str = "medium"  # high | medium | low

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decline_test(recent: int, baseline: int) -> dict[str, Any]:
    """The numbers of the declining-referrals test for one partner (see module docstring)."""
    n = recent + baseline
    share = RECENT_DAYS / (RECENT_DAYS + BASELINE_DAYS)
    recent_rate = recent * 30 / RECENT_DAYS
    base_rate = baseline * 30 / BASELINE_DAYS
    p_value = binomial_cdf(recent, n, share) if n else 1.0
    ratio = recent_rate / base_rate if base_rate else None
    fires = (baseline >= MIN_BASELINE and p_value < ALPHA and ratio is not None
             and ratio <= MAX_RATIO)
    return {
        "recent_referrals": recent, "recent_days": RECENT_DAYS,
        "baseline_referrals": baseline, "baseline_days": BASELINE_DAYS,
        "recent_per_30d": round(recent_rate, 2), "baseline_per_30d": round(base_rate, 2),
        "expected_recent": round(baseline * RECENT_DAYS / BASELINE_DAYS, 1),
        "ratio": None if ratio is None else round(ratio, 2),
        "p_value": float(f"{p_value:.3g}"), "alpha": ALPHA, "min_baseline": MIN_BASELINE,
        "max_ratio": MAX_RATIO, "fires": fires,
    }


def _partners(db: Database) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in db.query(
        "SELECT id, name, npi, kind, stage, created_at FROM partners")}


def _alert(p: dict[str, Any] | None, kind: str, message: str, action: str,
           evidence: dict[str, Any], *, sub: str | None = None, episode_id: str | None = None,
           severity: str = "medium") -> Alert:
    return Alert(
        kind=kind, partner_id=p["id"] if p else None, partner=p["name"] if p else None,
        npi=p["npi"] if p else None, message=message, suggested_action=action,
        evidence=evidence, episode_id=episode_id, urgency=URGENCY[(kind, sub)],
        severity=severity,
    )


def declining(db: Database, today: date, partners: dict[int, dict[str, Any]]) -> list[Alert]:
    t = today.isoformat()
    recent_start = (today - timedelta(days=RECENT_DAYS)).isoformat()
    base_start = (today - timedelta(days=RECENT_DAYS + BASELINE_DAYS)).isoformat()
    out = []
    for pid, recent, baseline in db.execute(
        "SELECT partner_id, sum(referral_date > ?), sum(referral_date <= ?) FROM episodes"
        " WHERE partner_id IS NOT NULL AND referral_date > ? AND referral_date <= ?"
        " GROUP BY partner_id", [recent_start, recent_start, base_start, t],
    ):
        ev = decline_test(int(recent or 0), int(baseline or 0))
        if not ev.pop("fires"):
            continue
        p = partners[pid]
        out.append(_alert(
            p, "referrals_declining",
            f"{p['name']}: {ev['recent_per_30d']:g} referrals per 30 days in the last "
            f"{RECENT_DAYS} days, down from {ev['baseline_per_30d']:g} per 30 days over the "
            f"12 months before ({ev['recent_referrals']} vs about {ev['expected_recent']:g} "
            f"expected; p = {ev['p_value']:.2g}).",
            "Call or visit to ask how referrals to the clinic are going; bring an outcomes "
            "packet for their patients.", ev, severity="high"))
    return out


def touch_overdue(db: Database, today: date, partners: dict[int, dict[str, Any]]) -> list[Alert]:
    cadence: dict[str, int] = settings.get(db, "cadence_days")
    last = dict(db.execute(
        "SELECT partner_id, max(date) FROM touchpoints WHERE date <= ? GROUP BY partner_id",
        [today.isoformat()]).fetchall())
    out = []
    for pid, p in partners.items():
        stage = p["stage"]
        if stage == "prospect" or stage not in cadence:
            continue
        days_allowed = int(cadence[stage])
        last_touch = last.get(pid)
        since = date.fromisoformat(last_touch) if last_touch else \
            date.fromisoformat(p["created_at"][:10])
        days = (today - since).days
        if days <= days_allowed:
            continue
        evidence = {"stage": stage, "cadence_days": days_allowed,
                    "last_touch": last_touch, "days_since": days,
                    "days_overdue": days - days_allowed}
        when = f"last touchpoint {last_touch}, {days} days ago" if last_touch else \
            f"no touchpoint since the partner was added {days} days ago"
        action = ("Re-engage: a short call or a packet of recent outcomes."
                  if stage == "dormant" else "Schedule a call or visit and log the touchpoint.")
        out.append(_alert(
            p, "touch_overdue",
            f"{p['name']} ({stage}): {when}; the cadence for {stage} partners is "
            f"{days_allowed} days.", action, evidence,
            severity="medium" if days > 2 * days_allowed else "low"))
    out.sort(key=lambda a: -a.evidence["days_overdue"])
    return out


def first_referral(db: Database, today: date, partners: dict[int, dict[str, Any]]) -> list[Alert]:
    start = (today - timedelta(days=FIRST_REFERRAL_DAYS)).isoformat()
    out = []
    for pid, first, episode_id in db.execute(
        "SELECT e.partner_id, e.referral_date, min(e.id) FROM episodes e"
        " JOIN (SELECT partner_id, min(referral_date) AS first FROM episodes"
        "       WHERE partner_id IS NOT NULL GROUP BY partner_id) f"
        "   ON f.partner_id = e.partner_id AND f.first = e.referral_date"
        " WHERE e.referral_date > ? AND e.referral_date <= ?"
        " AND NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.partner_id = e.partner_id"
        "   AND t.date >= e.referral_date AND t.date <= ?)"
        " AND NOT EXISTS (SELECT 1 FROM communications c WHERE c.partner_id = e.partner_id"
        "   AND c.date >= e.referral_date AND c.date <= ?)"
        " GROUP BY e.partner_id", [start, today.isoformat(), today.isoformat(),
                                   today.isoformat()],
    ):
        p = partners[pid]
        days = (today - date.fromisoformat(first)).days
        out.append(_alert(
            p, "first_referral",
            f"{p['name']} sent a first referral on {first} ({days} days ago); nobody has been "
            "in touch since.",
            "Thank them (call or note) and tell them the patient was seen.",
            {"first_referral": first, "days_since": days, "episode_id": episode_id},
            episode_id=episode_id, severity="medium"))
    return out


def update_owed(db: Database, today: date, partners: dict[int, dict[str, Any]]) -> list[Alert]:
    start = (today - timedelta(days=UPDATE_WINDOW_DAYS)).isoformat()
    t = today.isoformat()
    rows = db.execute(
        "SELECT e.id, e.partner_id, e.status, e.discharge_date,"
        " (SELECT max(r.date) FROM responses r WHERE r.episode_id = e.id"
        "   AND r.timepoint = 'progress' AND r.date <= ?) AS progress_date"
        " FROM episodes e WHERE e.partner_id IS NOT NULL"
        " AND ((e.status = 'discharged' AND e.discharge_date > ? AND e.discharge_date <= ?)"
        "   OR (e.status IN ('evaluated','in_care') AND EXISTS (SELECT 1 FROM responses r"
        "       WHERE r.episode_id = e.id AND r.timepoint = 'progress'"
        "       AND r.date > ? AND r.date <= ?)))",
        [t, start, t, start, t],
    ).fetchall()
    sent: dict[tuple[str, int], str] = {
        (eid, pid): d for eid, pid, d in db.execute(
            "SELECT episode_id, partner_id, max(date) FROM communications"
            " WHERE episode_id IS NOT NULL AND date <= ? GROUP BY episode_id, partner_id", [t])
    }
    out = []
    for eid, pid, status, discharge, progress in rows:
        if status == "discharged":
            milestone, sub, what = discharge, "discharge", "was discharged"
        else:
            milestone, sub, what = progress, "progress", "had a progress re-assessment"
        last_sent = sent.get((eid, pid))
        if last_sent is not None and last_sent >= milestone:
            continue
        p = partners[pid]
        days = (today - date.fromisoformat(milestone)).days
        action = ("Send the discharge summary (with the outcome scores) to the referrer."
                  if sub == "discharge" else "Send a progress update to the referrer.")
        out.append(_alert(
            p, "update_owed",
            f"Episode {eid} referred by {p['name']} {what} on {milestone} ({days} days ago); "
            "no update has been sent to them since.", action,
            {"episode_id": eid, "milestone": sub, "milestone_date": milestone,
             "days_since": days, "last_sent": last_sent},
            sub=sub, episode_id=eid, severity="medium" if sub == "discharge" else "low"))
    out.sort(key=lambda a: (a.urgency, -a.evidence["days_since"], a.episode_id or ""))
    return out


def spend_limit(db: Database, today: date, partners: dict[int, dict[str, Any]]) -> list[Alert]:
    limit = float(settings.get(db, "spend_limit"))
    fraction = float(settings.get(db, "spend_warn_fraction"))
    limit_year = settings.get(db, "spend_limit_year")
    out = []
    for pid, total in spend_by_partner(db, today.year).items():
        if total < limit * fraction:
            continue
        p = partners[pid]
        over = total > limit
        sub = "over" if over else "near"
        ev = {"year": today.year, "spent": total, "limit": limit,
              "warn_at": round(limit * fraction, 2), "share": round(total / limit, 3),
              "remaining": round(max(limit - total, 0.0), 2), "limit_year": limit_year}
        if over:
            msg = (f"{p['name']}: gifts and meals in {today.year} total ${total:,.2f}, "
                   f"${total - limit:,.2f} over the yearly non-monetary compensation limit "
                   f"of ${limit:,.2f}.")
            action = ("Stop gifts and meals for this physician this year and review with "
                      "your compliance adviser (repayment may be possible within the rule).")
        else:
            msg = (f"{p['name']}: gifts and meals in {today.year} total ${total:,.2f}, "
                   f"{total / limit:.0%} of the yearly limit of ${limit:,.2f} "
                   f"(${limit - total:,.2f} left).")
            action = "Plan the rest of the year's contact without meals or gifts."
        out.append(_alert(p, "spend_limit", msg, action, ev, sub=sub,
                          severity="high" if over else "medium"))
    return out


def detractors(db: Database, today: date, partners: dict[int, dict[str, Any]]) -> list[Alert]:
    start = (today - timedelta(days=DETRACTOR_DAYS)).isoformat()
    out = []
    for rid, eid, when, score, comment, pid in db.execute(
        "SELECT n.id, n.episode_id, n.date, n.score, n.comment, e.partner_id"
        " FROM nps_responses n LEFT JOIN episodes e ON e.id = n.episode_id"
        " WHERE n.score <= 6 AND n.date > ? AND n.date <= ? ORDER BY n.date DESC, n.id",
        [start, today.isoformat()],
    ):
        p = partners.get(pid) if pid is not None else None
        where = f"episode {eid}" if eid else "a patient (no episode)"
        referred = f", referred by {p['name']}" if p else ""
        out.append(_alert(
            p, "detractor",
            f"NPS {score} from {where}{referred} on {when}.",
            "Call the patient to hear what went wrong; tell the clinician.",
            {"nps_id": rid, "score": score, "date": when, "comment": comment},
            episode_id=eid, severity="high"))
    return out


def compute_alerts(db: Database, today: date) -> list[Alert]:
    """Every alert for ``today``, most urgent first."""
    partners = _partners(db)
    alerts: list[Alert] = []
    for check in (spend_limit, detractors, declining, update_owed, first_referral,
                  touch_overdue):
        alerts.extend(check(db, today, partners))
    # A stable sort keeps each kind's own order (most overdue, oldest discharge...) inside it.
    alerts.sort(key=lambda a: a.urgency)
    return alerts
