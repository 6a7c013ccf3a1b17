"""The alert rules rewritten for speed give what the rules they replaced gave.

Each reference below is the earlier code, kept here verbatim in its logic: the differential
tests feed both the same generated histories and require equal results.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.network import decline
from outcomes.network.alerts import CHECKS, URGENCY, clinic_season, partner_declines
from outcomes.periods import add_months, month_start
from tests.network.helpers import add_partner, add_referral

TODAY = date(2026, 6, 15)


def reference_season(db: Database, today: date) -> dict[int, float] | None:
    """clinic_season as it was: one GROUP BY on the month."""
    months = 36
    first = add_months(today, -months)
    totals = dict(db.execute(
        "SELECT substr(referral_date, 1, 7), count(*) FROM episodes"
        " WHERE referral_date >= ? AND referral_date < ? GROUP BY 1",
        [first.isoformat(), month_start(today).isoformat()]).fetchall())
    earliest = db.execute("SELECT min(referral_date) FROM episodes").fetchone()[0]
    if earliest is None or earliest > first.isoformat():
        return None
    keys = [add_months(first, i) for i in range(months)]
    factors = decline.seasonal_factors([float(totals.get(k.strftime("%Y-%m"), 0)) for k in keys])
    if factors is None:
        return None
    return {k.month: f for k, f in zip(keys[:12], factors, strict=True)}


def reference_declines(db: Database, today: date) -> dict[int, decline.Decline]:
    """partner_declines as it was: GROUP BY queries over every partner's referrals."""
    end = decline.month_index(today.year, today.month)
    span = decline.BASELINE_MONTHS + decline.WINDOW_MONTHS
    first = end - span
    first_day = add_months(today, -span).isoformat()
    end_day = month_start(today).isoformat()
    starts: dict[int, int] = {}
    for pid, earliest in db.execute(
        "SELECT partner_id, min(referral_date) FROM episodes WHERE partner_id IS NOT NULL"
        " AND referral_date < ? GROUP BY partner_id", [end_day],
    ):
        year, month = int(earliest[:4]), int(earliest[5:7])
        starts[pid] = max(decline.month_index(year, month) + 1, first)
    counts: dict[tuple[int, int], int] = {}
    for pid, ym, n in db.execute(
        "SELECT partner_id, substr(referral_date, 1, 7), count(*) FROM episodes"
        " WHERE partner_id IS NOT NULL AND referral_date >= ? AND referral_date < ?"
        " GROUP BY 1, 2", [first_day, end_day],
    ):
        counts[(pid, decline.month_index(int(ym[:4]), int(ym[5:7])))] = n
    season = reference_season(db, today)
    out = {}
    for pid, start in starts.items():
        months = range(start, end)
        out[pid] = decline.detect([counts.get((pid, m), 0) for m in months],
                                  decline.season_for(months, season))
    return out


# Referral histories: per partner, a start some months back, a monthly rate and an optional
# drop to a share of it for the last months, so some partners fire and most do not.
partner_story = st.tuples(
    st.integers(min_value=0, max_value=60),    # months of history before today
    st.integers(min_value=0, max_value=12),    # referrals a month
    st.integers(min_value=0, max_value=8),     # months of the drop
    st.sampled_from([0.0, 0.3, 0.5, 1.0]),     # share kept during the drop
    st.integers(min_value=0, max_value=27),    # day of the month of the first referral
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stories=st.lists(partner_story, min_size=0, max_size=6),
       self_referred=st.integers(min_value=0, max_value=40),
       today=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)))
def test_declines_and_season_match_the_group_by_rules(
    db: Database, stories: list[tuple[int, int, int, float, int]], self_referred: int,
    today: date,
) -> None:
    for table in ("touchpoints", "episodes", "patients", "partners"):
        db.execute(f"DELETE FROM {table}")
    for number, (history, rate, drop, kept, day) in enumerate(stories):
        pid = add_partner(db, f"Dr. {number}")
        for back in range(history, -1, -1):
            month = add_months(today, -back)
            n = round(rate * kept) if back < drop else rate
            for i in range(n):
                when = month + timedelta(days=min(day + i, 27))
                if when <= today:
                    add_referral(db, pid, when)
    for i in range(self_referred):   # no partner: counts in the season only
        add_referral(db, None, today - timedelta(days=37 * i))
    for k in range(min(len(stories), 3)):   # a touch after some first referrals
        db.execute("INSERT INTO touchpoints (partner_id, date, method, summary, created_at)"
                   " SELECT id, ?, 'phone', 'call', ? FROM partners WHERE name = ?",
                   [today.isoformat(), today.isoformat(), f"Dr. {k * 2}"])
    assert clinic_season(db, today) == reference_season(db, today)
    assert partner_declines(db, today) == reference_declines(db, today)
    assert_same_first_referrals(db, today)


def reference_first_referral(db: Database, today: date) -> list:
    """first_referral's read as it was: each partner's first referral by a GROUP BY."""
    start = (today - timedelta(days=30)).isoformat()
    return db.execute(
        "SELECT e.partner_id, e.referral_date, min(e.id) FROM episodes e"
        " JOIN (SELECT partner_id, min(referral_date) AS first FROM episodes"
        "       WHERE partner_id IS NOT NULL GROUP BY partner_id) f"
        "   ON f.partner_id = e.partner_id AND f.first = e.referral_date"
        " WHERE e.referral_date > ? AND e.referral_date <= ?"
        " AND NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.partner_id = e.partner_id"
        "   AND t.date >= e.referral_date AND t.date <= ?)"
        " AND NOT EXISTS (SELECT 1 FROM communications c WHERE c.partner_id = e.partner_id"
        "   AND c.date >= e.referral_date AND c.date <= ?)"
        " GROUP BY e.partner_id", [start, *[today.isoformat()] * 3]).fetchall()


def assert_same_first_referrals(db: Database, today: date) -> None:
    from outcomes.network import alerts

    found = alerts.first_referral(db, today, alerts._partners(db))
    assert [(a.partner_id, a.evidence["first_referral"], a.episode_id) for a in found] == [
        tuple(r) for r in reference_first_referral(db, today)]


def test_declines_and_season_match_on_the_demo(demo_db: Database) -> None:
    for today in (date(2026, 11, 22), date(2026, 6, 1), date(2025, 12, 31)):
        assert clinic_season(demo_db, today) == reference_season(demo_db, today)
        assert partner_declines(demo_db, today) == reference_declines(demo_db, today)
        assert_same_first_referrals(demo_db, today)


# ------------------------------------------------------------------ owed letters, worded lazily


def reference_document_owed(db: Database, today: date, partners: dict) -> list:
    """document_owed as it was: every alert worded, then sorted."""
    from outcomes.network import alerts
    from outcomes.network.owed import owed_documents

    out = [alerts.owed_alert(partners[pid], owed) for pid, owed in owed_documents(db, today)]
    out.sort(key=lambda a: (a.urgency, -a.evidence["days"], a.episode_id or ""))
    return out


def reference_alerts(db: Database, today: date) -> list:
    """compute_alerts as it was: every check's alerts worded, merged, sorted by urgency."""
    from outcomes.network import alerts

    partners = alerts._partners(db)
    found: list = []
    for check in (alerts.spend_limit, alerts.detractors, alerts.patient_worsening,
                  alerts.referral_unscheduled, alerts.relationship_at_risk,
                  reference_document_owed, alerts.findings_overdue, alerts.first_referral,
                  alerts.touch_overdue):
        found.extend(check(db, today, partners))
    at_risk = {a.partner_id for a in found if a.kind == "relationship_at_risk"}
    found = [a for a in found if not (a.kind == "touch_overdue" and a.partner_id in at_risk)]
    found.sort(key=lambda a: a.urgency)
    return found


def assert_same_queue(db: Database, today: date) -> None:
    from outcomes.network import queue
    from outcomes.network.alerts import compute_alerts

    expected = reference_alerts(db, today)
    assert compute_alerts(db, today) == expected
    states = queue.load_states(db)
    fast = queue.work_queue(db, today)
    slow = queue.build_queue(expected, states, today)
    assert [(g.kind, g.count, g.label, g.urgency) for g in fast.groups] == \
        [(g.kind, g.count, g.label, g.urgency) for g in slow.groups]
    assert (fast.done, fast.snoozed, fast.summary()) == (slow.done, slow.snoozed, slow.summary())
    assert [(i.key, i.kind, i.urgency, i.alert) for i in fast.items()] == \
        [(queue.alert_key(i.alert), i.alert.kind, i.alert.urgency, i.alert)
         for i in slow.items()]
    assert_same_stages(db, today, slow)


def group_rows(group: object) -> tuple:
    return (group.kind, group.count, group.label, group.urgency,  # type: ignore[attr-defined]
            [(i.key, i.kind, i.urgency, i.alert) for i in group.items])  # type: ignore[attr-defined]


def assert_same_stages(db: Database, today: date, slow: object) -> None:
    """queue_stages (the dashboard's first rows, then the rest): every partial queue is the
    whole queue's first groups exactly, each one more than the last, and the last stage is
    the whole queue, equal to the reference's."""
    from outcomes.network import queue

    stages = list(queue.queue_stages(db, today))
    *partials, whole = stages
    assert whole.complete and not any(p.complete for p in partials)
    expected = [group_rows(g) for g in slow.groups]  # type: ignore[attr-defined]
    assert [group_rows(g) for g in whole.groups] == expected
    assert (whole.done, whole.snoozed, whole.summary()) == \
        (slow.done, slow.snoozed, slow.summary())  # type: ignore[attr-defined]
    sizes = [len(p.groups) for p in partials]
    assert sizes == sorted(set(sizes)) and all(sizes)
    for p in partials:
        assert [group_rows(g) for g in p.groups] == expected[:len(p.groups)]
        assert p.done <= whole.done and p.snoozed <= whole.snoozed


def test_the_queue_words_owed_letters_lazily_and_stays_the_same_on_the_demo(
    demo_db: Database,
) -> None:
    from outcomes.network import queue

    for today in (date(2026, 11, 22), date(2026, 10, 1)):
        assert_same_queue(demo_db, today)
    # Done and snoozed states hide the same alerts: set one of each on owed letters.
    today = date(2026, 11, 22)
    owed = queue.work_queue(demo_db, today).items("document_owed")
    assert len(owed) >= 2
    queue.mark_done(demo_db, owed[0])
    queue.snooze(demo_db, owed[1], today)
    assert_same_queue(demo_db, today)
    assert queue.work_queue(demo_db, today).done == 1


episode_story = st.tuples(
    st.sampled_from(["received", "evaluated", "in_care", "discharged", "cancelled"]),
    st.integers(min_value=0, max_value=200),    # days from the first visit to today
    st.integers(min_value=0, max_value=60),     # days from the first visit to the discharge
    st.integers(min_value=0, max_value=3),      # letters sent (progress notes, summaries)
    st.integers(min_value=0, max_value=2),      # the partner among three
)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stories=st.lists(episode_story, max_size=25))
def test_the_queue_words_owed_letters_lazily_and_stays_the_same(
    db: Database, stories: list[tuple[str, int, int, int, int]],
) -> None:
    from tests.network.helpers import add_comm

    for table in ("communications", "episodes", "patients", "partners", "alert_states"):
        db.execute(f"DELETE FROM {table}")
    partners = [add_partner(db, f"Dr. {n}") for n in range(3)]
    for status, since, stay, letters, who in stories:
        first = TODAY - timedelta(days=since)
        discharge = first + timedelta(days=stay) if status == "discharged" else None
        if discharge is not None and discharge > TODAY:
            discharge = TODAY
        eid = add_referral(db, partners[who], first - timedelta(days=3), status=status,
                           first_visit=first, discharge=discharge)
        for k in range(letters):
            add_comm(db, partners[who], first + timedelta(days=10 * (k + 1)), eid,
                     kind="progress_update" if k % 2 else "discharge_summary")
    assert_same_queue(db, TODAY)


# ------------------------------------------------------------------ open-episode indexes (0013)


def reference_facts(db: Database, today: date, window_days: int = 90) -> list:
    """network.owed's read of the episodes as it was: one OR over the whole table."""
    t = today.isoformat()
    start = (today - timedelta(days=window_days)).isoformat()
    return db.execute(
        "SELECT e.id, e.partner_id, e.status, e.first_visit_date, e.discharge_date, e.visits,"
        " e.physician_follow_up, e.poc_sent_date, e.poc_certified_date FROM episodes e"
        " WHERE e.partner_id IS NOT NULL AND e.first_visit_date IS NOT NULL"
        " AND e.first_visit_date <= ? AND (e.first_visit_date > ? OR e.discharge_date > ?"
        " OR e.status IN ('evaluated','in_care'))", [t, start, start]).fetchall()


def assert_same_reads(db: Database, today: date) -> None:
    from outcomes.network import worsening
    from outcomes.network.owed import episode_facts, owed_documents

    facts = episode_facts(db, today)
    owed = owed_documents(db, today)
    worse = worsening.worsening(db, today, 3)
    # Without the indexes SQLite reads the whole table in its order, as before migration 0013.
    db.execute("DROP INDEX episodes_in_care")
    db.execute("DROP INDEX episodes_first_visit")
    try:
        assert [(eid, pid, f.status, f.first_visit, f.discharge, f.visits)
                for eid, (pid, f) in facts.items()] == [
            (r[0], r[1], r[2], *(None if v is None else date.fromisoformat(v) for v in r[3:5]),
             r[5]) for r in reference_facts(db, today)]
        assert owed_documents(db, today) == owed
        assert worsening.worsening(db, today, 3) == worse
    finally:
        from outcomes.store.schema import _V13, _split_sql

        for statement in _split_sql(_V13):
            db.execute(statement)


def test_the_open_episode_indexes_read_the_same_rows_on_the_demo(demo_db: Database) -> None:
    for today in (date(2026, 11, 22), date(2026, 8, 1)):
        assert_same_reads(demo_db, today)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stories=st.lists(episode_story, max_size=25))
def test_the_open_episode_indexes_read_the_same_rows(
    db: Database, stories: list[tuple[str, int, int, int, int]],
) -> None:
    for table in ("communications", "episodes", "patients", "partners"):
        db.execute(f"DELETE FROM {table}")
    partners = [add_partner(db, f"Dr. {n}") for n in range(3)]
    for status, since, stay, _letters, who in stories:
        first = TODAY - timedelta(days=since)
        discharge = first + timedelta(days=stay) if status == "discharged" else None
        add_referral(db, partners[who], first - timedelta(days=3), status=status,
                     first_visit=None if status == "received" else first, discharge=discharge)
    assert_same_reads(db, TODAY)


# ------------------------------------------------------------------ findings overdue, in SQL


def reference_awaiting(db: Database, today: date, days: int, window_days: int | None) -> list:
    """outbound.awaiting_findings as it was: every outbound referral built, filtered in Python."""
    from outcomes.network.outbound import list_outbound

    cutoff = (today - timedelta(days=days)).isoformat()
    oldest = (today - timedelta(days=window_days)).isoformat() if window_days else ""
    rows = [r for r in list_outbound(db, limit=None)
            if r.status in ("sent", "scheduled", "seen") and oldest <= r.date < cutoff]
    return sorted(rows, key=lambda r: (r.date, r.id))


def assert_same_awaiting(db: Database, today: date) -> None:
    from outcomes.network.outbound import awaiting_findings

    for days, window in ((14, 104), (14, None), (0, 30), (30, 30)):
        assert awaiting_findings(db, today, days, window_days=window) == reference_awaiting(
            db, today, days, window)


def test_findings_overdue_reads_the_same_referrals_on_the_demo(demo_db: Database) -> None:
    assert demo_db.execute("SELECT count(*) FROM outbound_referrals").fetchone()[0] > 0
    for today in (date(2026, 11, 22), date(2026, 8, 1)):
        assert_same_awaiting(demo_db, today)


outbound_story = st.tuples(
    st.sampled_from(["sent", "scheduled", "seen", "findings_received", "closed"]),
    st.integers(min_value=-5, max_value=150),   # days before today it was sent
    st.integers(min_value=0, max_value=1),      # the partner among two
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stories=st.lists(outbound_story, max_size=20))
def test_findings_overdue_reads_the_same_referrals(
    db: Database, stories: list[tuple[str, int, int]],
) -> None:
    for table in ("outbound_referrals", "partners"):
        db.execute(f"DELETE FROM {table}")
    partners = [add_partner(db, f"Dr. {n}") for n in range(2)]
    for n, (status, back, who) in enumerate(stories):
        # Same dates on purpose (ties are ordered by id), reasons vary so rows are distinct.
        db.execute("INSERT INTO outbound_referrals (partner_id, date, reason, created_at, status)"
                   " VALUES (?, ?, ?, ?, ?)",
                   [partners[who], (TODAY - timedelta(days=back)).isoformat(), f"reason {n}",
                    TODAY.isoformat(), status])
    assert_same_awaiting(db, TODAY)


# ------------------------------------------------------------------ the queue in stages


def test_the_first_rows_come_before_the_owed_letters_are_ranked(
        demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from outcomes.network import alerts, queue

    ranked: list[int] = []
    real = alerts.owed_ranked

    def counted(db: Database, today: date) -> list:
        ranked.append(1)
        return real(db, today)

    monkeypatch.setattr(alerts, "owed_ranked", counted)
    stages = queue.queue_stages(demo_db, date(2026, 11, 22))
    first = next(stages)
    # The demo's most urgent kind is a patient not improving: certain before the owed
    # letters (which can rank no higher than 4) are looked at.
    assert not first.complete and first.kinds == ["patient_worsening"]
    assert ranked == []
    *_, whole = stages
    assert whole.complete and ranked == [1]
    assert whole.groups[0] == first.groups[0]


KIND_URGENCIES = {kind: sorted({u for (k, _), u in URGENCY.items() if k == kind})
                  for kind, _ in CHECKS}

# One alert: (urgency's index among the kind's, partner 0-2, subject 0-3, state: none, done,
# snoozed, or done with other facts).
alert_story = st.tuples(st.integers(0, 1), st.integers(0, 2), st.integers(0, 3),
                        st.sampled_from(["", "done", "snoozed", "stale"]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stories=st.fixed_dictionaries(
    {kind: st.lists(alert_story, max_size=6) for kind, _ in CHECKS}))
def test_the_stages_are_the_whole_queue_in_order_on_any_alerts(
        monkeypatch: pytest.MonkeyPatch, stories: dict[str, list]) -> None:
    """Any mix of kinds, urgencies (ties between kinds included) and states: the stages
    agree with build_queue over the merged alerts (the queue as it is computed at once)."""
    from outcomes.network import alerts, queue

    today = TODAY
    found: dict[str, list] = {}
    states: dict[str, queue.AlertState] = {}
    for kind, story in stories.items():
        found[kind] = []
        for n, (which, pid, subject, state) in enumerate(story):
            urgencies = KIND_URGENCIES[kind]
            field = queue.SUBJECT_FIELD.get(kind, "n")
            alert = alerts.Alert(kind, pid, f"Dr. {pid}", None, f"{kind} {n}", "act",
                                 {field: subject, "n": n},
                                 urgency=urgencies[min(which, len(urgencies) - 1)])
            found[kind].append(alert)
            key = queue.alert_key(alert)
            if state:
                facts = "other" if state == "stale" else queue.alert_facts(alert)
                states[key] = queue.AlertState(
                    key, queue.SNOOZED if state == "snoozed" else queue.DONE, facts,
                    today + timedelta(days=3) if state == "snoozed" else None)
    monkeypatch.setattr(alerts, "alerts_by_kind",
                        lambda db, day: iter([(k, found[k]) for k, _ in alerts.STAGES]))
    monkeypatch.setattr(queue, "load_states", lambda db: states)
    merged = [a for kind, _ in CHECKS for a in found[kind]]
    merged.sort(key=lambda a: a.urgency)
    slow = queue.build_queue(merged, states, today)
    assert_same_stages(None, today, slow)  # type: ignore[arg-type]


def test_every_kind_has_one_check_and_the_stages_keep_what_they_depend_on() -> None:
    from outcomes.network import alerts

    kinds = [kind for kind, _ in CHECKS]
    # Every kind the urgency table knows is computed once, and nothing else is.
    assert sorted(kinds) == sorted({kind for kind, _ in URGENCY}) and len(set(kinds)) == len(kinds)
    stages = [kind for kind, _ in alerts.STAGES]
    assert sorted(stages) == sorted(kinds)
    # Computed in the order they can rank; touches overdue are filtered by the partners at
    # risk, so those come first.
    bounds = [alerts.rank_bound(kind) for kind in stages]
    assert bounds == sorted(bounds)
    assert stages.index("relationship_at_risk") < stages.index("touch_overdue")
    assert alerts.kind_floor("document_owed") == 4 and alerts.kind_floor("spend_limit") == 0
