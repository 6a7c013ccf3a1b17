"""Each alert kind fires on a story built for it and stays silent on a steady partner."""

from __future__ import annotations

from datetime import date, timedelta

from sqlite_utils import Database

from outcomes.network import decline
from outcomes.network.alerts import clinic_season, compute_alerts, partner_declines
from outcomes.periods import add_months
from tests.network.helpers import (
    TODAY,
    add_comm,
    add_partner,
    add_referral,
    add_touch,
)


def kinds_for(alerts: list, partner_id: int | None = None) -> list[str]:
    return sorted(a.kind for a in alerts if partner_id is None or a.partner_id == partner_id)


# ------------------------------------------------------------------ relationship_at_risk


def monthly(db: Database, partner_id: int, per_month: int, first: date, last: date) -> None:
    """``per_month`` referrals in every calendar month from ``first``'s to ``last``'s, spread
    over the month (days 2, 2 + 26 / per_month, ...), each seen two days after it arrived."""
    month = first.replace(day=1)
    while month <= last:
        for i in range(per_month):
            day = month + timedelta(days=1 + i * 26 // per_month)
            if day <= TODAY:
                add_referral(db, partner_id, day, status="evaluated",
                             first_visit=day + timedelta(days=2))
        month = add_months(month, 1)


def add_outbound(db: Database, partner_id: int, when: date) -> None:
    from outcomes.dates import now_iso

    db.execute("INSERT INTO outbound_referrals (partner_id, date, reason, created_at)"
               " VALUES (?, ?, 'Surgical consult', ?)", [partner_id, when.isoformat(), now_iso()])


def test_dr_house_gets_one_alert_telling_the_whole_story(db: Database) -> None:
    """The seed's story: a steady knee-replacement referrer halves over four months, nobody has
    touched base in four months, nothing was referred back for a little over two; his steady
    neighbour, kept in touch with, gets nothing."""
    house = add_partner(db, "Dr. House", stage="mature", kind="orthopedic surgeon")
    monthly(db, house, 6, date(2024, 1, 1), date(2026, 1, 31))
    monthly(db, house, 3, date(2026, 2, 1), date(2026, 5, 31))   # Feb-May 2026: halved
    add_referral(db, house, date(2026, 6, 3), status="evaluated",   # June is not over:
                 first_visit=date(2026, 6, 5))                     # not judged
    add_touch(db, house, date(2026, 2, 10))                        # 125 days before TODAY
    add_outbound(db, house, date(2026, 4, 5))                      # 71 days
    add_comm(db, house, date(2025, 11, 20), kind="packet")
    wilson = add_partner(db, "Dr. Wilson", stage="mature")
    monthly(db, wilson, 6, date(2024, 1, 1), date(2026, 5, 31))
    add_touch(db, wilson, TODAY - timedelta(days=10))

    alerts = compute_alerts(db, TODAY)
    # The letters owed on his recent episodes and the findings awaited from the patient sent to
    # him are alerts of their own (tests/network/test_owed.py).
    alerts = [a for a in alerts if a.kind not in ("document_owed", "findings_overdue")]
    assert [a.kind for a in alerts if a.partner_id == house] == ["relationship_at_risk"]
    assert [a for a in alerts if a.partner_id == wilson] == []
    a = next(a for a in alerts if a.partner_id == house)
    ev = a.evidence
    assert ev["reasons"] == ["referrals_declining", "touch_overdue"]
    assert ev["recent_counts"][-4:] == [3, 3, 3, 3] and ev["baseline_per_month"] == 6.0
    assert (ev["shortfall_months"], ev["shortfall_referrals"], ev["shortfall_expected"]) == \
        (4, 12, 24.0)
    assert ev["days_since_touch"] == 125 and ev["touch_overdue"] is True
    assert ev["days_since_referral_back"] == 71 and ev["latest_packet"] == "2025-11-20"
    assert a.message == (
        "Dr. House: 12 referrals in Feb 2026 to May 2026 against about 24 expected from their "
        "usual 6.0 a month; last touch 125 days ago; last patient referred back to them 71 days "
        "ago; too few scored outcomes over the last 12 months to judge (fewer than 5).")
    assert a.suggested_action.startswith("Visit Dr. House")
    assert "latest packet (sent 2025-11-20" in a.suggested_action
    assert a.severity == "high"


def test_at_risk_calls_rather_than_visits_when_in_touch(db: Database) -> None:
    pid = add_partner(db, "Dr. Fading", stage="mature")
    monthly(db, pid, 6, date(2024, 1, 1), date(2026, 1, 31))
    monthly(db, pid, 2, date(2026, 2, 1), date(2026, 5, 31))
    add_touch(db, pid, TODAY - timedelta(days=45))                  # cadence 45: on time
    alerts = [a for a in compute_alerts(db, TODAY) if a.partner_id == pid
              and a.kind != "document_owed"]
    assert [a.kind for a in alerts] == ["relationship_at_risk"]
    assert alerts[0].evidence["reasons"] == ["referrals_declining"]
    assert alerts[0].evidence["days_since_referral_back"] is None
    assert "nothing referred back to them" in alerts[0].message
    assert alerts[0].suggested_action.startswith("Call Dr. Fading")
    assert "outcomes packet" in alerts[0].suggested_action


def test_at_risk_reports_the_mcid_share_from_min_n(db: Database) -> None:
    from outcomes.store import settings

    pid = add_partner(db, "Dr. Fading", stage="mature")
    monthly(db, pid, 6, date(2024, 1, 1), date(2026, 1, 31))
    monthly(db, pid, 2, date(2026, 2, 1), date(2026, 5, 31))
    add_touch(db, pid, TODAY)
    eids = [r[0] for r in db.execute(
        "SELECT id FROM episodes WHERE partner_id = ? AND referral_date >= '2025-07-01'"
        " ORDER BY id LIMIT 5", [pid])]
    for i, eid in enumerate(eids):
        db.execute("INSERT INTO episode_outcomes (episode_id, scale, instrument, partner_id,"
                   " referral_date, mcid_met) SELECT id, 'odi', 'odi', partner_id,"
                   " referral_date, ? FROM episodes WHERE id = ?", [int(i < 3), eid])
    alert = next(a for a in compute_alerts(db, TODAY) if a.partner_id == pid)
    assert "reached the MCID in 3 of 5 scored outcomes (60%)" in alert.message
    settings.set_value(db, "min_n", 6)
    alert = next(a for a in compute_alerts(db, TODAY) if a.partner_id == pid)
    assert alert.evidence["mcid_share"] is None and "fewer than 6" in alert.message


def test_history_starts_the_month_after_the_first_referral(db: Database) -> None:
    """The first month is partial (the partner started somewhere in it): a burst of ten first
    referrals in November 2024 does not raise the level of a partner at 4 a month since."""
    pid = add_partner(db, "Dr. New")
    for day in range(10):
        add_referral(db, pid, date(2024, 11, 15 + day), status="evaluated",
                     first_visit=date(2024, 11, 28))
    monthly(db, pid, 4, date(2024, 12, 1), date(2026, 5, 31))    # 18 whole months to May
    d = partner_declines(db, TODAY)[pid]
    assert d.judged and d.baseline_months == 12 and d.level == 4.0
    assert len(d.recent) == decline.WINDOW_MONTHS and d.statistic == 0.0


def test_at_risk_allows_for_the_season(db: Database) -> None:
    """A clinic whose every partner halves each summer: a partner doing the same is not at
    risk once three years of history show the season; without the season he would be."""
    today = date(2026, 10, 15)
    partners = [add_partner(db, f"Dr. {i}", stage="mature") for i in range(5)]
    for pid in partners:
        add_touch(db, pid, today)
        month = date(2022, 12, 1)
        while month < date(2026, 10, 1):
            n = 3 if month.month in (6, 7, 8, 9) else 6
            for i in range(n):
                add_referral(db, pid, month + timedelta(days=1 + i * 4))
            month = add_months(month, 1)
    season = clinic_season(db, today)
    assert season is not None and season[7] < 0.7 < 1.0 < season[1]
    assert [a for a in compute_alerts(db, today) if a.kind == "relationship_at_risk"] == []
    declines = partner_declines(db, today)
    assert all(d.judged and not d.fires for d in declines.values())
    # The same summer judged without the season does fire.
    d = declines[partners[0]]
    assert d.recent[-4:] == (3, 3, 3, 3)
    assert decline.detect([6] * 24 + list(d.recent)).fires


def test_evenly_spaced_partners_never_at_risk_at_any_rate(db: Database) -> None:
    for per_month in (1, 2, 4, 6, 12, 25):
        pid = add_partner(db, f"Dr. {per_month}")
        monthly(db, pid, per_month, date(2024, 1, 1), TODAY)
    assert [a for a in compute_alerts(db, TODAY) if a.kind == "relationship_at_risk"] == []


# ------------------------------------------------------------------ touch_overdue


def test_touch_overdue_uses_the_stage_cadence(db: Database) -> None:
    active = add_partner(db, "Dr. Active", stage="active")        # cadence 30
    add_touch(db, active, TODAY - timedelta(days=31))
    fine = add_partner(db, "Dr. Fine", stage="active")
    add_touch(db, fine, TODAY - timedelta(days=30))
    mature = add_partner(db, "Dr. Mature", stage="mature")        # cadence 45
    add_touch(db, mature, TODAY - timedelta(days=40))
    prospect = add_partner(db, "Dr. Prospect", stage="prospect")  # excluded
    dormant = add_partner(db, "Dr. Dormant", stage="dormant")     # own cadence, 90
    add_touch(db, dormant, TODAY - timedelta(days=91))
    alerts = [a for a in compute_alerts(db, TODAY) if a.kind == "touch_overdue"]
    by_partner = {a.partner_id: a for a in alerts}
    assert set(by_partner) == {active, dormant}
    assert by_partner[active].evidence == {
        "stage": "active", "cadence_days": 30, "last_touch": (TODAY - timedelta(days=31))
        .isoformat(), "days_since": 31, "days_overdue": 1}
    assert prospect not in by_partner and fine not in by_partner and mature not in by_partner


def test_touch_overdue_follows_the_cadence_setting(db: Database) -> None:
    from outcomes.store import settings

    pid = add_partner(db, "Dr. Active", stage="active")
    add_touch(db, pid, TODAY - timedelta(days=20))
    assert "touch_overdue" not in kinds_for(compute_alerts(db, TODAY), pid)
    cadence = dict(settings.get(db, "cadence_days"), active=14)
    settings.set_value(db, "cadence_days", cadence)
    assert "touch_overdue" in kinds_for(compute_alerts(db, TODAY), pid)


# ------------------------------------------------------------------ first_referral


def test_first_referral_fires_until_someone_gets_in_touch(db: Database) -> None:
    new = add_partner(db, "Dr. New", stage="outreach")
    add_touch(db, new, TODAY - timedelta(days=20))  # before the referral: does not count
    eid = add_referral(db, new, TODAY - timedelta(days=5))
    alerts = [a for a in compute_alerts(db, TODAY) if a.kind == "first_referral"]
    assert [(a.partner_id, a.episode_id) for a in alerts] == [(new, eid)]
    assert alerts[0].evidence["days_since"] == 5
    add_touch(db, new, TODAY - timedelta(days=2), method="letter", summary="Thank-you card")
    assert "first_referral" not in kinds_for(compute_alerts(db, TODAY), new)


def test_first_referral_is_silent_for_old_partners_and_old_firsts(db: Database) -> None:
    old = add_partner(db, "Dr. Old")
    add_referral(db, old, TODAY - timedelta(days=200))
    add_referral(db, old, TODAY - timedelta(days=3))
    late = add_partner(db, "Dr. Late")
    add_referral(db, late, TODAY - timedelta(days=31))
    assert "first_referral" not in kinds_for(compute_alerts(db, TODAY))


def test_first_referral_cleared_by_a_communication(db: Database) -> None:
    new = add_partner(db, "Dr. New")
    eid = add_referral(db, new, TODAY - timedelta(days=5))
    add_comm(db, new, TODAY - timedelta(days=1), eid, kind="letter")
    assert "first_referral" not in kinds_for(compute_alerts(db, TODAY), new)


# ------------------------------------------------------------------ document_owed


def test_discharge_summary_owed_per_episode_until_sent_to_the_referrer(db: Database) -> None:
    pid = add_partner(db, "Dr. Refer")
    add_touch(db, pid, TODAY - timedelta(days=1))
    owed = add_referral(db, pid, TODAY - timedelta(days=60), status="discharged",
                        first_visit=TODAY - timedelta(days=55),
                        discharge=TODAY - timedelta(days=10))
    sent = add_referral(db, pid, TODAY - timedelta(days=60), status="discharged",
                        first_visit=TODAY - timedelta(days=55),
                        discharge=TODAY - timedelta(days=12))
    add_comm(db, pid, TODAY - timedelta(days=11), sent)
    old = add_referral(db, pid, TODAY - timedelta(days=200), status="discharged",
                       first_visit=TODAY - timedelta(days=195),
                       discharge=TODAY - timedelta(days=91))

    def discharge_owed() -> list[str | None]:
        return [a.episode_id for a in compute_alerts(db, TODAY) if a.kind == "document_owed"
                and a.evidence["document"] == "discharge_summary"]

    assert discharge_owed() == [owed]
    assert old not in discharge_owed()
    # A summary sent to someone else, or a progress note before discharge, does not count.
    other = add_partner(db, "Dr. Other")
    add_comm(db, other, TODAY, owed)
    add_comm(db, pid, TODAY - timedelta(days=20), owed, kind="progress_update")
    assert discharge_owed() == [owed]
    add_comm(db, pid, TODAY, owed)
    assert discharge_owed() == []


def test_document_owed_names_the_document_and_the_letter(db: Database) -> None:
    pid = add_partner(db, "Dr. Refer")
    eid = add_referral(db, pid, TODAY - timedelta(days=40), status="in_care",
                       first_visit=TODAY - timedelta(days=30))
    alerts = {a.evidence["document"]: a for a in compute_alerts(db, TODAY)
              if a.kind == "document_owed"}
    # The unsent evaluation summary travels with the plan of care: one alert asks for it.
    assert set(alerts) == {"plan_of_care", "progress_note"}
    poc = alerts["plan_of_care"]
    assert poc.evidence["stage"] == "late" and poc.severity == "high"
    assert "evaluation summary with the plan has not been sent" in poc.message
    assert f"outcomes letter {eid} --kind evaluation" in poc.suggested_action
    assert "progress note owed to Dr. Refer" in alerts["progress_note"].message
    # The late plan of care comes before the other letters.
    assert poc.urgency < alerts["progress_note"].urgency


# ------------------------------------------------------------------ spend_limit


def test_spend_limit_near_and_over(db: Database) -> None:
    from outcomes.store import settings

    # The numbers below are built around a $519 limit; the shipped default moves every year.
    settings.set_value(db, "spend_limit", 519.0)
    settings.set_value(db, "spend_limit_year", 2026)
    near = add_partner(db, "Dr. Near")
    add_touch(db, near, date(2026, 2, 1), amount=300, method="lunch and learn")
    add_touch(db, near, date(2026, 5, 1), amount=120, method="lunch and learn")  # 420 >= 415.2
    over = add_partner(db, "Dr. Over")
    add_touch(db, over, date(2026, 3, 1), amount=520, method="event")
    under = add_partner(db, "Dr. Under")
    add_touch(db, under, date(2026, 3, 1), amount=400, method="event")
    last_year = add_partner(db, "Dr. LastYear")
    add_touch(db, last_year, date(2025, 12, 31), amount=900, method="event")
    alerts = [a for a in compute_alerts(db, TODAY) if a.kind == "spend_limit"]
    by = {a.partner_id: a for a in alerts}
    assert set(by) == {near, over}
    assert by[near].evidence["spent"] == 420 and by[near].severity == "medium"
    assert by[over].evidence["spent"] == 520 and by[over].severity == "high"
    # Over the limit is the most urgent alert of all.
    assert compute_alerts(db, TODAY)[0].partner_id == over


# ------------------------------------------------------------------ detractor


def test_detractor_recent_low_scores_only(db: Database) -> None:
    from outcomes.dates import now_iso

    pid = add_partner(db, "Dr. Refer")
    add_touch(db, pid, TODAY)
    eid = add_referral(db, pid, TODAY - timedelta(days=80))
    rows = [(eid, TODAY - timedelta(days=3), 6, "[bold]slow[/bold]"),
            (None, TODAY - timedelta(days=4), 2, ""),
            (eid, TODAY - timedelta(days=5), 7, ""),          # passive: silent
            (eid, TODAY - timedelta(days=31), 0, "")]         # too old: silent
    for e, d, s, c in rows:
        db.execute("INSERT INTO nps_responses (episode_id, date, score, comment, created_at)"
                   " VALUES (?, ?, ?, ?, ?)", [e, d.isoformat(), s, c, now_iso()])
    alerts = [a for a in compute_alerts(db, TODAY) if a.kind == "detractor"]
    assert [(a.partner_id, a.evidence["score"]) for a in alerts] == [(pid, 6), (None, 2)]
    assert alerts[0].evidence["comment"] == "[bold]slow[/bold]"


# ------------------------------------------------------------------ the quiet case


def test_a_well_kept_steady_partner_gets_no_alerts(db: Database) -> None:
    pid = add_partner(db, "Dr. Steady", stage="mature")
    monthly(db, pid, 4, date(2024, 1, 1), TODAY)
    add_touch(db, pid, TODAY - timedelta(days=10))
    # Kept informed: each evaluation summarised, each plan certified, a progress note this week.
    for eid, first in db.execute("SELECT id, first_visit_date FROM episodes").fetchall():
        if first > TODAY.isoformat():
            continue
        db.execute("UPDATE episodes SET poc_certified_date = ?, poc_certified_by = 'signed'"
                   " WHERE id = ?", [first, eid])
        db.execute("INSERT INTO communications (partner_id, episode_id, date, kind, channel,"
                   " created_at, document, status, sent_date) VALUES (?, ?, ?, 'letter', 'fax',"
                   " ?, 'evaluation_summary', 'sent', ?)", [pid, eid, first, first, first])
        add_comm(db, pid, TODAY - timedelta(days=2), eid, kind="progress_update")
    assert [a for a in compute_alerts(db, TODAY) if a.partner_id == pid] == []


# ------------------------------------------------------------------ the demo stories


def test_demo_stories(demo_db: Database) -> None:
    from tests.conftest import DEMO_TODAY

    alerts = compute_alerts(demo_db, DEMO_TODAY)
    by_name: dict[str, set[str]] = {}
    for a in alerts:
        by_name.setdefault(a.partner or "", set()).add(a.kind)
    # Hale's decline and overdue touch are one alert that tells both (what concerns a single
    # episode, a letter owed or a patient getting worse, stays an alert of its own).
    per_episode = {"document_owed", "patient_worsening"}
    assert by_name["Dr. Margaret Hale"] - per_episode == {"relationship_at_risk"}
    hale = next(a for a in alerts if a.partner == "Dr. Margaret Hale")
    assert hale.evidence["reasons"] == ["referrals_declining", "touch_overdue"]
    assert sum(a.kind == "relationship_at_risk" for a in alerts) == 1
    assert "first_referral" in by_name["Dr. Priya Raman"]
    assert "spend_limit" in by_name["Dr. Samuel Okafor"]
    assert "relationship_at_risk" not in by_name["Dr. Samuel Okafor"]
    owed = [a for a in alerts if a.kind == "document_owed" and a.evidence["document"] ==
            "discharge_summary"]
    assert owed and all(a.evidence["days"] <= 90 for a in owed)
    assert [a.urgency for a in alerts] == sorted(a.urgency for a in alerts)
    # Every alert carries the documented JSON fields.
    for a in alerts:
        d = a.as_dict()
        assert {"kind", "partner_id", "partner", "npi", "message", "suggested_action",
                "evidence"} <= set(d)
