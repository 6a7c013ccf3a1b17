"""What the clinic owes each referring physician, and when (issue 12).

For an episode referred by a partner (and not closed as not scheduled or cancelled):

- **evaluation summary**: owed from the first visit until one is sent. While the plan of care
  is due or late (below), that alert carries it (the plan travels in the evaluation summary),
  so the same letter is never asked for twice.
- **plan of care certification**: the plan must be certified within 30 days of the first
  treatment (Medicare: the signed plan returned, or, since 2025, a signed order on file plus the
  plan sent once). Uncertified, it is *due* from day 23 (a week's notice) and *late* from day 30
  (the deadline day itself: the physician has not certified it in time). It stops once a
  certification is recorded (``network.clinical.certify_plan``).
- **progress note**: for an open episode (evaluated, in care), every ``progress_note_visits``
  visits or ``progress_note_days`` days since the first visit or the last progress note sent,
  whichever comes first; and in the ``follow_up_notice_days`` before a known physician
  follow-up, unless a progress note went out in the two weeks before that follow-up.
- **discharge summary**: owed from the discharge date until one is sent.

Only a document *sent* counts (``communications.status = 'sent'``): making a letter is not
sending it. Milestones older than ``RECENT_DAYS`` (90) are not chased: an alert queue of last
year's letters helps nobody (for a progress note the milestone is the last note sent, or the
first visit: an episode left open and untouched for months is stale data, not a note owed).
The rules are a pure function of an episode's dates and what was sent (:func:`owed_for`), so
they are tested at every edge without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from outcomes.periods import RECENT_DAYS
from outcomes.store.database import Queryable

POC_NOTICE_DAY = 23
"""The plan-of-care alert starts on this day after the first treatment (a week's notice)."""
POC_DEADLINE_DAY = 30
"""The plan of care must be certified within 30 days of the first treatment."""
FOLLOW_UP_COVERED_DAYS = 14
"""A progress note sent this many days before a physician follow-up covers it."""


@dataclass(frozen=True)
class Rules:
    """When the letters a referrer expects fall due (the clinic's settings, else these)."""

    progress_visits: int = 10
    progress_days: int = 30
    follow_up_notice_days: int = 7
    window_days: int = RECENT_DAYS
    plan_of_care: bool = True
    """False: the certification is not tracked (the ``plan_of_care_alerts`` setting)."""


@dataclass(frozen=True)
class EpisodeFacts:
    """What the rules read about one episode (dates as ``date``; None when not recorded)."""

    episode_id: str
    status: str
    first_visit: date | None
    discharge: date | None
    visits: int | None = None
    physician_follow_up: date | None = None
    poc_sent: date | None = None
    poc_certified: date | None = None
    sent: dict[str, list[date]] = field(default_factory=dict)
    """Sent dates of each document for this episode, to this referrer."""


@dataclass(frozen=True)
class Owed:
    """A letter owed to an episode's referrer, and since when."""

    episode_id: str
    document: str
    """evaluation_summary, plan_of_care, progress_note or discharge_summary."""
    stage: str
    """due | late (plan of care); owed for the others."""
    since: date
    """The milestone the document is owed for (first visit, discharge, deadline...)."""
    days: int
    """Days since the milestone (the plan of care: days since the first treatment)."""
    reasons: tuple[str, ...] = ()


def _sent_since(facts: EpisodeFacts, document: str, since: date, today: date) -> list[date]:
    sent = facts.sent.get(document)
    if not sent:  # most episodes: nothing sent yet (20,000 calls at a big clinic's start)
        return []
    return sorted(d for d in sent if since <= d <= today)


def owed_for(facts: EpisodeFacts, today: date, rules: Rules = Rules()) -> list[Owed]:
    """The documents owed for one episode on ``today`` (pure)."""
    out: list[Owed] = []
    if facts.status in ("not_scheduled", "cancelled") or facts.first_visit is None \
            or facts.first_visit > today:
        return out
    first = facts.first_visit
    since_first = (today - first).days
    recent = since_first <= rules.window_days
    summary_sent = bool(_sent_since(facts, "evaluation_summary", first, today))
    certified = facts.poc_certified is not None and facts.poc_certified <= today
    if rules.plan_of_care and recent and not certified and since_first >= POC_NOTICE_DAY:
        # The plan travels in the evaluation summary: one alert says both, and what to do.
        stage = "late" if since_first >= POC_DEADLINE_DAY else "due"
        out.append(Owed(facts.episode_id, "plan_of_care", stage,
                        first + timedelta(days=POC_DEADLINE_DAY), since_first,
                        () if summary_sent else ("evaluation_summary_not_sent",)))
    elif recent and not summary_sent:
        out.append(Owed(facts.episode_id, "evaluation_summary", "owed", first, since_first))
    if facts.status in ("evaluated", "in_care"):
        progress = _progress(facts, today, rules)
        if progress is not None:
            out.append(progress)
    if facts.status == "discharged" and facts.discharge is not None \
            and facts.discharge <= today:
        days = (today - facts.discharge).days
        if days <= rules.window_days and not _sent_since(facts, "discharge_summary",
                                                         facts.discharge, today):
            out.append(Owed(facts.episode_id, "discharge_summary", "owed", facts.discharge,
                            days))
    return out


def _progress(facts: EpisodeFacts, today: date, rules: Rules) -> Owed | None:
    assert facts.first_visit is not None
    notes = _sent_since(facts, "progress_note", facts.first_visit, today)
    anchor = notes[-1] if notes else facts.first_visit
    if (today - anchor).days > rules.window_days:
        return None  # an episode left open with nothing for months is stale, not owed a note
    reasons: list[str] = []
    if (today - anchor).days >= rules.progress_days:
        reasons.append("days")
    if facts.visits is not None and facts.visits >= rules.progress_visits * (len(notes) + 1):
        reasons.append("visits")
    follow_up = facts.physician_follow_up
    if follow_up is not None and today <= follow_up \
            and (follow_up - today).days <= rules.follow_up_notice_days \
            and not any(d >= follow_up - timedelta(days=FOLLOW_UP_COVERED_DAYS) for d in notes):
        reasons.append("follow_up")
    if not reasons:
        return None
    since = follow_up if reasons == ["follow_up"] and follow_up else anchor
    return Owed(facts.episode_id, "progress_note", "owed", since, (today - anchor).days,
                tuple(reasons))


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def rules_from_settings(db: Queryable) -> Rules:
    from outcomes.store import settings

    return Rules(progress_visits=int(settings.get(db, "progress_note_visits")),
                 progress_days=int(settings.get(db, "progress_note_days")),
                 follow_up_notice_days=int(settings.get(db, "follow_up_notice_days")),
                 # Only JSON false turns it off: a mistyped value keeps the deadline watched.
                 plan_of_care=settings.get(db, "plan_of_care_alerts") is not False)


def episode_facts(db: Queryable, today: date, *, episode_id: str | None = None,
                  window_days: int = RECENT_DAYS) -> dict[str, tuple[int, EpisodeFacts]]:
    """Facts for referred episodes whose first visit is on or before ``today`` and which may owe
    something (first visit or discharge in the window, or still open), keyed by episode id,
    with the partner id."""
    t = today.isoformat()
    start = (today - timedelta(days=window_days)).isoformat()
    # The three reasons to owe something as a union of index searches (migration 0013; the
    # discharge index is older): the same rows as "first visit or discharge in the window, or
    # still open", where an OR made SQLite read the whole table, or walk the first-visit index
    # over the whole history (0.55 s on 250,000 episodes).
    where = "e.id = ?" if episode_id else (
        "e.rowid IN (SELECT rowid FROM episodes WHERE first_visit_date > ?"
        " UNION SELECT rowid FROM episodes WHERE discharge_date > ?"
        " UNION SELECT rowid FROM episodes WHERE status IN ('evaluated', 'in_care'))")
    params: list[Any] = [episode_id] if episode_id else [start, start]
    facts: dict[str, tuple[int, EpisodeFacts]] = {}
    rows = db.execute(
        "SELECT e.id, e.partner_id, e.status, e.first_visit_date, e.discharge_date, e.visits,"
        " e.physician_follow_up, e.poc_sent_date, e.poc_certified_date FROM episodes e"
        " WHERE e.partner_id IS NOT NULL AND e.first_visit_date IS NOT NULL"
        f" AND e.first_visit_date <= ? AND {where} ORDER BY e.rowid", [t, *params]).fetchall()
    for eid, pid, status, first, discharge, visits, follow, poc_sent, poc_cert in rows:
        facts[eid] = (pid, EpisodeFacts(eid, status, _d(first), _d(discharge), visits,
                                        _d(follow), _d(poc_sent), _d(poc_cert), {}))
    if not facts:
        return facts
    # Rows written without the document columns (hand logs, imports, the demo) say what they
    # are by their kind, and were sent on their date.
    for eid, pid, document, sent in db.execute(
        "SELECT episode_id, partner_id, coalesce(document, CASE kind"
        "   WHEN 'progress_update' THEN 'progress_note'"
        "   WHEN 'discharge_summary' THEN 'discharge_summary' END),"
        " coalesce(sent_date, date) FROM communications"
        " WHERE episode_id IS NOT NULL AND status = 'sent' AND coalesce(sent_date, date) <= ?",
        [t]
    ):
        if document is None:
            continue
        found = facts.get(eid)
        if found is not None and found[0] == pid:
            found[1].sent.setdefault(document, []).append(date.fromisoformat(sent))
    return facts


def owed_documents(db: Queryable, today: date, *, episode_id: str | None = None
                   ) -> list[tuple[int, Owed]]:
    """Every document owed on ``today`` (partner id, what is owed), episode by episode."""
    rules = rules_from_settings(db)
    out: list[tuple[int, Owed]] = []
    for pid, facts in episode_facts(db, today, episode_id=episode_id,
                                    window_days=rules.window_days).values():
        out.extend((pid, owed) for owed in owed_for(facts, today, rules))
    return out


__all__ = ["POC_DEADLINE_DAY", "POC_NOTICE_DAY", "EpisodeFacts", "Owed", "Rules",
           "episode_facts", "owed_documents", "owed_for", "rules_from_settings"]
