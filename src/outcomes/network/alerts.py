"""Relationship-health alerts: what needs doing now, each with the numbers behind it.

One module because every kind shares the urgency table, the Alert record and the one sort
that orders the queue; the heavier rules live beside it (decline, worsening, frontdesk, owed).

``compute_alerts(db, today)`` returns a list sorted by urgency (most urgent first). Kinds:

- ``spend_limit``: gift/meal spend this calendar year over (most urgent) or near the limit.
- ``detractor``: an NPS answer of 0-6 in the last 30 days.
- ``relationship_at_risk``: the partner's referrals are declining (``network.decline``: a
  seasonal Poisson CUSUM on whole months against their own baseline). One alert per partner
  tells the whole story: the shortfall against expected, days since the last touch, days since
  the clinic last referred a patient back to them, their patients' MCID share over the last 12
  months, and what to do (visit when the touch is overdue, else call; with their latest packet).
  Their ``touch_overdue`` alert merges into it (``evidence["reasons"]`` lists both).
- ``document_owed``: one alert per document owed to a referring physician (evaluation summary,
  plan-of-care certification due from day 23 and late from day 30, progress note, discharge
  summary), naming it; the rules are in ``network.owed``.
- ``findings_overdue``: an outbound referral whose findings are not back after
  ``outbound_findings_days``.
- ``first_referral``: a partner's first-ever referral in the last 30 days and no touchpoint or
  communication with them since: thank them.
- ``touch_overdue``: no touchpoint within ``cadence_days[stage]``. Prospects are excluded (they
  are a list to work through, not relationships that lapse); dormant partners use their own,
  longer cadence (a reminder to re-engage).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import partial
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from outcomes.measures.nps import PASSIVE_MIN

# Every rule's module at import (owed and outbound were imported where used): the dashboard
# imports this module before it starts the clock that decides whether a slow queue is shown in
# parts (PARTIAL_AFTER_S), and loading a module is not the queue being slow.
from outcomes.network import decline, frontdesk, worsening
from outcomes.network.outbound import awaiting_findings
from outcomes.network.owed import POC_DEADLINE_DAY, Owed, owed_documents
from outcomes.network.spend import spend_by_partner
from outcomes.periods import RECENT_DAYS, add_months, default_period, month_start
from outcomes.store import settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlite_utils import Database

SEASON_MONTHS = 36
FIRST_REFERRAL_DAYS = 30
DETRACTOR_DAYS = 30

# Lower is more urgent.
URGENCY = {
    ("spend_limit", "over"): 0,
    ("detractor", None): 1,
    ("patient_worsening", "worse_by_mcid"): 2,
    ("referral_unscheduled", None): 3,
    ("relationship_at_risk", None): 4,
    ("document_owed", "plan_of_care_late"): 4,
    ("document_owed", "discharge_summary"): 5,
    ("document_owed", "plan_of_care_due"): 5,
    ("document_owed", "evaluation_summary"): 5,
    ("first_referral", None): 6,
    ("patient_worsening", "no_improvement"): 7,
    ("document_owed", "progress_note"): 8,
    ("findings_overdue", None): 8,
    ("spend_limit", "near"): 9,
    ("touch_overdue", None): 10,
}


@dataclass(frozen=True)
class Alert:
    """One thing to act on, from one rule: its kind, the partner (or none), a sentence, what to
    do, the facts behind it and its urgency (the lowest first)."""

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


def _partners(db: Database) -> dict[int, dict[str, Any]]:
    # Plain execute (not sqlite-utils' query): the alerts then read on any connection,
    # the dashboard's plain reader included.
    cursor = db.execute("SELECT id, name, npi, kind, stage, created_at FROM partners")
    columns = [d[0] for d in cursor.description]
    return {r[0]: dict(zip(columns, r, strict=True)) for r in cursor}


def _alert(p: dict[str, Any] | None, kind: str, message: str, action: str,
           evidence: dict[str, Any], *, sub: str | None = None, episode_id: str | None = None,
           severity: str = "medium") -> Alert:
    return Alert(
        kind=kind, partner_id=p["id"] if p else None, partner=p["name"] if p else None,
        npi=p["npi"] if p else None, message=message, suggested_action=action,
        evidence=evidence, episode_id=episode_id, urgency=URGENCY[(kind, sub)],
        severity=severity,
    )


def partner_declines(db: Database, today: date) -> dict[int, decline.Decline]:
    """The declining-referrer detector's verdict for every partner with referrals, judged on the
    whole calendar months before today's (today's month is not over yet)."""
    end = decline.month_index(today.year, today.month)          # exclusive
    span = decline.BASELINE_MONTHS + decline.WINDOW_MONTHS
    first = end - span
    first_day = add_months(today, -span).isoformat()
    end_day = month_start(today).isoformat()
    starts: dict[int, int] = {}
    # One index seek per partner (episodes_partner_date): a GROUP BY over the episodes read
    # every referral of the whole history (~50 ms on 250,000 episodes, at every start of the
    # dashboard). Every episode's partner_id is a partner's id (a foreign key).
    for pid, earliest in db.execute(
        "SELECT p.id, (SELECT min(e.referral_date) FROM episodes e WHERE e.partner_id = p.id"
        " AND e.referral_date < ?) AS earliest FROM partners p WHERE earliest IS NOT NULL",
        [end_day],
    ):
        # The month of the first referral is partial (the partner started somewhere in it),
        # so a partner's history starts the month after.
        year, month = int(earliest[:4]), int(earliest[5:7])
        starts[pid] = max(decline.month_index(year, month) + 1, first)
    counts: dict[tuple[int, int], int] = {}
    for pid in starts:
        # Partner by partner, each a range of the index: one GROUP BY over every partner's
        # months sorted ~90,000 rows in a temporary B-tree (1.7x slower).
        for ym, n in db.execute(
            "SELECT substr(referral_date, 1, 7), count(*) FROM episodes"
            " WHERE partner_id = ? AND referral_date >= ? AND referral_date < ? GROUP BY 1",
            [pid, first_day, end_day],
        ):
            counts[(pid, decline.month_index(int(ym[:4]), int(ym[5:7])))] = n
    season = clinic_season(db, today)
    out = {}
    for pid, start in starts.items():
        months = range(start, end)
        out[pid] = decline.detect([counts.get((pid, m), 0) for m in months],
                                  decline.season_for(months, season))
    return out


def clinic_season(db: Database, today: date) -> dict[int, float] | None:
    """Seasonal factors by calendar month (1-12) from the clinic's referrals (all sources) over
    the 36 whole months before today's month; None when there is not enough history."""
    months = SEASON_MONTHS
    first = add_months(today, -months)
    earliest = db.execute("SELECT min(referral_date) FROM episodes").fetchone()[0]
    if earliest is None or earliest > first.isoformat():
        return None  # the first of the 36 months may be partial or empty: too short a history
    keys = [add_months(first, i) for i in range(months)]
    # A count per month, each a range of the referral-date index: one GROUP BY on the month
    # sorted three years of referrals in a temporary B-tree (~50 ms against ~8 on 250,000).
    bounds = [k.isoformat() for k in keys] + [month_start(today).isoformat()]
    totals = [float(db.execute(
        "SELECT count(*) FROM episodes WHERE referral_date >= ? AND referral_date < ?",
        [bounds[i], bounds[i + 1]]).fetchone()[0]) for i in range(months)]
    factors = decline.seasonal_factors(totals)
    if factors is None:
        return None
    return {k.month: f for k, f in zip(keys[:12], factors, strict=True)}


def relationship_at_risk(db: Database, today: date, partners: dict[int, dict[str, Any]]
                         ) -> list[Alert]:
    """One alert per declining partner, with the whole story (see the module docstring)."""
    found = {pid: d for pid, d in partner_declines(db, today).items() if d.fires}
    if not found:
        return []
    t = today.isoformat()
    cadence: dict[str, int] = settings.get(db, "cadence_days")
    min_n = int(settings.get(db, "min_n"))
    year = default_period(today)
    out = []
    for pid, d in sorted(found.items(), key=lambda item: -item[1].statistic):
        p = partners[pid]
        last_touch = db.execute("SELECT max(date) FROM touchpoints WHERE partner_id = ?"
                                " AND date <= ?", [pid, t]).fetchone()[0]
        last_back = db.execute("SELECT max(date) FROM outbound_referrals WHERE partner_id = ?"
                               " AND date <= ?", [pid, t]).fetchone()[0]
        last_packet = db.execute("SELECT max(date) FROM communications WHERE partner_id = ?"
                                 " AND kind = 'packet' AND date <= ?", [pid, t]).fetchone()[0]
        met, judged = db.execute(
            "SELECT coalesce(sum(mcid_met), 0), count(mcid_met) FROM episode_outcomes"
            " WHERE partner_id = ? AND referral_date BETWEEN ? AND ?",
            [pid, *year.iso()]).fetchone()
        since_touch = _days(today, last_touch)
        since_back = _days(today, last_back)
        allowed = cadence.get(p["stage"])
        overdue = allowed is not None and (since_touch is None or since_touch > int(allowed))
        share = met / judged if judged >= min_n and judged else None
        last_month = add_months(today, -1)
        months = (f"{add_months(today, -d.run_months):%b %Y} to {last_month:%b %Y}"
                  if d.run_months > 1 else f"{last_month:%b %Y}")
        story = [
            f"{d.run_count} referrals in {months} against about "
            f"{d.run_expected:.0f} expected from their usual {d.level:.1f} a month",
            "no touchpoint on record" if since_touch is None else
            f"last touch {since_touch} days ago",
            "nothing referred back to them" if since_back is None else
            f"last patient referred back to them {since_back} days ago",
            f"their patients reached the MCID in {met} of {judged} scored outcomes "
            f"({share:.0%}) over the last 12 months" if share is not None else
            f"too few scored outcomes over the last 12 months to judge (fewer than {min_n})",
        ]
        how = "Visit" if overdue else "Call"
        packet = (f"bring their latest packet (sent {last_packet}, {_days(today, last_packet)} "
                  "days ago) or a fresh one" if last_packet else
                  f"bring an outcomes packet (outcomes packet {p['npi'] or pid!s} --out "
                  "packet.pdf)")
        evidence = {
            "reasons": ["referrals_declining", *(["touch_overdue"] if overdue else [])],
            "cusum": round(d.statistic, 2), "threshold": d.threshold,
            "baseline_per_month": round(d.level, 2), "baseline_months": d.baseline_months,
            "recent_counts": list(d.recent), "recent_expected": [round(e, 1) for e in d.expected],
            "shortfall_months": d.run_months, "shortfall_referrals": d.run_count,
            "shortfall_expected": round(d.run_expected, 1),
            "ratio": None if d.ratio is None else round(d.ratio, 2),
            "last_touch": last_touch, "days_since_touch": since_touch,
            "cadence_days": allowed, "touch_overdue": overdue,
            "last_referral_back": last_back, "days_since_referral_back": since_back,
            "mcid_met": met, "mcid_judged": judged,
            "mcid_share": None if share is None else round(share, 3),
            "latest_packet": last_packet,
        }
        out.append(_alert(
            p, "relationship_at_risk", f"{p['name']}: " + "; ".join(story) + ".",
            f"{how} {p['name']} to ask how referrals are going; {packet}.",
            evidence, severity="high"))
    return out


def _num(value: float) -> str:
    """A score for a message: one decimal at most (the evidence keeps full precision)."""
    return f"{round(value, 1):g}"


def _days(today: date, iso: str | None) -> int | None:
    return None if iso is None else (today - date.fromisoformat(iso[:10])).days


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
        # Each partner's first referral by one index seek (a GROUP BY over every episode
        # read the whole history: ~35 ms on 250,000 episodes at each start of the dashboard).
        "SELECT e.partner_id, e.referral_date, min(e.id) FROM episodes e"
        " JOIN (SELECT p.id AS partner_id, (SELECT min(x.referral_date) FROM episodes x"
        "       WHERE x.partner_id = p.id) AS first FROM partners p) f"
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


DOCUMENT_NAMES = {"evaluation_summary": "evaluation summary",
                  "plan_of_care": "plan-of-care certification",
                  "progress_note": "progress note", "discharge_summary": "discharge summary"}
LETTER_KINDS = {"evaluation_summary": "evaluation", "plan_of_care": "evaluation",
                "progress_note": "progress", "discharge_summary": "discharge"}


def _owed_urgency(owed: Owed) -> int:
    sub = f"plan_of_care_{owed.stage}" if owed.document == "plan_of_care" else owed.document
    return URGENCY[("document_owed", sub)]


def owed_ranked(db: Database, today: date) -> list[tuple[int, Owed]]:
    """The owed documents (partner id, what is owed) in the order of their alerts: most urgent
    first, then the longest owed, then by episode; no words built yet."""
    ranked = [((_owed_urgency(owed), -owed.days, owed.episode_id), pid, owed)
              for pid, owed in owed_documents(db, today)]
    # On the key only (stable, as the alerts' sort was): two documents of one episode may
    # tie, and Owed records do not compare. itemgetter, not a lambda: 15,000 Python calls less
    # on a big history.
    ranked.sort(key=itemgetter(0))
    return [(pid, owed) for _, pid, owed in ranked]


def document_owed(db: Database, today: date, partners: dict[int, dict[str, Any]]
                  ) -> list[Alert]:
    """One alert per owed document (``network.owed``), naming it and the letter that pays it."""
    return [owed_alert(partners[pid], owed) for pid, owed in owed_ranked(db, today)]


def owed_alert(p: dict[str, Any], owed: Owed) -> Alert:
    """The alert of one owed document of partner ``p``."""
    name = DOCUMENT_NAMES[owed.document]
    eid = owed.episode_id
    make = (f"outcomes letter {eid} --kind {LETTER_KINDS[owed.document]} --out {eid}.pdf,"
            f" then outcomes communications sent ID --channel fax")
    if owed.document == "plan_of_care":
        sub = f"plan_of_care_{owed.stage}"
        when = (f"day {owed.days} after the first treatment; it must be certified by "
                f"{owed.since} (day {POC_DEADLINE_DAY})")
        unsent = ("; the evaluation summary with the plan has not been sent"
                  if owed.reasons else "")
        message = (f"Episode {eid}: the plan of care is not certified by {p['name']} "
                   f"({when}){unsent}.")
        action = ("Send the evaluation summary with the plan of care for signature "
                  f"({make}); when the signed plan or an order is back: outcomes "
                  f"referrals update {eid} --poc-certified DATE --certified-by signed.")
        severity = "high" if owed.stage == "late" else "medium"
    else:
        sub = owed.document
        why = {"days": "time since the last note", "visits": "visits since the last note",
               "follow_up": "the physician follow-up is near"}
        detail = (" (" + ", ".join(why[r] for r in owed.reasons) + ")"
                  if owed.reasons else "")
        message = (f"Episode {eid}: {name} owed to {p['name']}{detail}; milestone "
                   f"{owed.since}, {owed.days} days ago.")
        action = f"Write and send the {name}: {make}."
        severity = "low" if owed.document == "progress_note" else "medium"
    return _alert(p, "document_owed", message, action,
                  {"episode_id": eid, "document": owed.document, "stage": owed.stage,
                   "since": owed.since.isoformat(), "days": owed.days,
                   "reasons": list(owed.reasons)},
                  sub=sub, episode_id=eid, severity=severity)


def findings_overdue(db: Database, today: date, partners: dict[int, dict[str, Any]]
                     ) -> list[Alert]:
    days = int(settings.get(db, "outbound_findings_days"))
    out = []
    for r in awaiting_findings(db, today, days, window_days=RECENT_DAYS + days):
        p = partners[r.partner_id]
        waited = (today - date.fromisoformat(r.date)).days
        out.append(_alert(
            p, "findings_overdue",
            f"Outbound referral {r.id} to {p['name']} sent {r.date} ({waited} days ago) is "
            f"{r.status.replace('_', ' ')}; no findings back (the clinic waits {days} days).",
            f"Call {p['name']} for the findings; then outcomes outbound update {r.id} "
            "--status \"findings received\" --findings TEXT.",
            {"outbound_id": r.id, "sent": r.date, "days": waited, "status": r.status,
             "allowed_days": days},
            episode_id=r.episode_id, severity="medium"))
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
        f" WHERE n.score < {PASSIVE_MIN} AND n.date > ? AND n.date <= ?"
        " ORDER BY n.date DESC, n.id",
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


def referral_unscheduled(db: Database, today: date, partners: dict[int, dict[str, Any]]
                         ) -> list[Alert]:
    within = int(settings.get(db, "schedule_within_business_days"))
    out = []
    for u in frontdesk.unscheduled(db, today, within):
        p = partners.get(u.partner_id) if u.partner_id is not None else None
        source = f"from {p['name']}" if p else "(self-referred)"
        out.append(_alert(
            p, "referral_unscheduled",
            f"Referral {u.episode_id} {source} arrived on {u.referral_date} and is not "
            f"scheduled after {u.business_days} business days (the clinic's standard is "
            f"{within}).",
            "Call the patient today to book the evaluation; if they will not come, close the "
            "referral as not scheduled with the reason (it counts in the partner's funnel).",
            {"episode_id": u.episode_id, "referral_date": u.referral_date,
             "business_days": u.business_days, "allowed_business_days": within},
            episode_id=u.episode_id,
            severity="high" if u.business_days > 2 * within else "medium"))
    return out


def patient_worsening(db: Database, today: date, partners: dict[int, dict[str, Any]]
                      ) -> list[Alert]:
    visits_needed = int(settings.get(db, "no_improvement_visits"))
    out = []
    for w in worsening.worsening(db, today, visits_needed):
        p = partners.get(w.partner_id) if w.partner_id is not None else None
        who = w.clinician or "the treating clinician (none recorded)"
        scores = (f"{w.scale_name} {_num(w.intake)} at intake ({w.intake_date}), "
                  f"{_num(w.latest)} on {w.latest_date}")
        if w.reason == "worse_by_mcid" and w.mcid is not None:
            share = (f" ({w.mcid / abs(w.intake):.0%} of the intake score)"
                     if w.mcid_unit == "percent" else "")
            what = (f"worse by {_num(-w.improvement)} points, at least the MCID of "
                    f"{_num(w.mcid)} points{share}")
        else:
            what = f"no improvement on any measure after {w.visits} visits"
        tell = (f"tell {p['name']}, who referred the patient" if p else
                "no referrer to tell (self-referred)")
        out.append(_alert(
            p, "patient_worsening",
            f"Episode {w.episode_id} ({who}): {scores}: {what}.",
            f"For {who}: review the plan of care with the patient; {tell}.",
            {"episode_id": w.episode_id, "reason": w.reason, "clinician": w.clinician,
             "instrument": w.instrument, "scale": w.scale, "intake": w.intake,
             "intake_date": w.intake_date, "latest": w.latest, "latest_date": w.latest_date,
             "improvement": round(w.improvement, 3),
             "mcid_points": None if w.mcid is None else round(w.mcid, 3),
             "mcid_unit": w.mcid_unit, "visits": w.visits,
             "visits_threshold": visits_needed},
            sub=w.reason, episode_id=w.episode_id,
            severity="high" if w.reason == "worse_by_mcid" else "medium"))
    return out


class Deferred(NamedTuple):
    """An alert whose place in the queue is known but whose words are not written yet: the
    kind, urgency, partner, episode and subject (what ``network.queue`` keys it by), and the
    call that writes it. Thousands of owed letters on a big history cost more to word than to
    find, and the dashboard shows five of them."""

    kind: str
    urgency: int
    partner_id: int | None
    episode_id: str | None
    subject: Any
    make: Callable[[], Alert]


def _owed_deferred(db: Database, today: date, partners: dict[int, dict[str, Any]]
                   ) -> list[Alert | Deferred]:
    return [Deferred("document_owed", _owed_urgency(owed), pid, owed.episode_id, owed.document,
                     partial(owed_alert, partners[pid], owed))
            for pid, owed in owed_ranked(db, today)]


Check = Callable[["Database", date, dict[int, dict[str, Any]]], Sequence["Alert | Deferred"]]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("spend_limit", spend_limit),
    ("detractor", detractors),
    ("patient_worsening", patient_worsening),
    ("referral_unscheduled", referral_unscheduled),
    ("relationship_at_risk", relationship_at_risk),
    ("document_owed", _owed_deferred),
    ("findings_overdue", findings_overdue),
    ("first_referral", first_referral),
    ("touch_overdue", touch_overdue),
)
"""Each kind and the check that finds its alerts, in the order their alerts are merged: of
two alerts of equal urgency, the one of the kind listed first comes first."""

CHECK_INDEX = {kind: index for index, (kind, _) in enumerate(CHECKS)}


def kind_floor(kind: str) -> int:
    """The most urgent urgency an alert of ``kind`` can have (URGENCY's smallest for it)."""
    return min(u for (k, _), u in URGENCY.items() if k == kind)


def rank_bound(kind: str) -> tuple[int, int]:
    """Where a kind's group can rank at best in the queue: its floor, then its place in
    CHECKS (the queue orders kinds by their most urgent alert, ties in CHECKS order)."""
    return kind_floor(kind), CHECK_INDEX[kind]


STAGES: tuple[tuple[str, Check], ...] = tuple(sorted(CHECKS, key=lambda c: rank_bound(c[0])))
"""CHECKS in the order the queue can show them: the kinds that can rank first are computed
first (``alerts_by_kind``). ``relationship_at_risk`` comes before ``touch_overdue``, which
it filters."""


def alerts_by_kind(db: Database, today: date
                   ) -> Iterator[tuple[str, Sequence[Alert | Deferred]]]:
    """Each kind's alerts in the check's own order (owed documents unworded), one kind at a
    time in STAGES order, so a reader can show the first kinds while the rest are computed.
    ``touch_overdue`` comes without the partners already at risk (their alert tells it)."""
    partners = _partners(db)
    at_risk: set[int | None] = set()
    for kind, check in STAGES:
        found: Sequence[Alert | Deferred] = check(db, today, partners)
        if kind == "relationship_at_risk":
            at_risk = {a.partner_id for a in found}
        elif kind == "touch_overdue":
            found = [a for a in found if a.partner_id not in at_risk]
        yield kind, found


def compute_alerts(db: Database, today: date) -> list[Alert]:
    """Every alert for ``today``, most urgent first."""
    return [a if isinstance(a, Alert) else a.make() for a in compute_deferred(db, today)]


def compute_deferred(db: Database, today: date) -> list[Alert | Deferred]:
    """:func:`compute_alerts` with the owed documents left unworded (:class:`Deferred`): the
    same alerts in the same order, for a reader that words only the ones it shows."""
    found = dict(alerts_by_kind(db, today))
    alerts: list[Alert | Deferred] = [a for kind, _ in CHECKS for a in found[kind]]
    # A stable sort keeps each kind's own order (most overdue, oldest discharge...) inside it.
    alerts.sort(key=attrgetter("urgency"))
    return alerts
