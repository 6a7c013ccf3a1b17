"""The read-only queries behind the dashboard, on small hand-made data and the demo."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from outcomes.models import Episode, Partner, Patient
from outcomes.network.episodes import save_episode, save_patient
from outcomes.network.partners import save_partner
from outcomes.periods import add_months, month_end, split_months
from outcomes.reports.dashboard import dashboard_summary
from outcomes.reports.episodes import (
    REGION_INSTRUMENT,
    default_instrument,
    episode_detail,
    find_episodes,
    next_timepoint,
)
from outcomes.reports.partners import PartnerRow, partner_detail, partner_stats, partners_page
from outcomes.reports.rollups import Rate, clinic_mcid, nps_between, referrals_per_month
from outcomes.store.database import transaction
from tests.conftest import DEMO_TODAY

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 3, 15), -1, date(2026, 2, 1)),   # previous month
        (date(2026, 1, 31), -1, date(2025, 12, 1)),  # across a year
        (date(2026, 3, 15), -12, date(2025, 3, 1)),  # a year ago
        (date(2025, 12, 2), 1, date(2026, 1, 1)),    # forwards across a year
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def _clinic(db):
    with transaction(db):
        a = save_partner(db, Partner(name="Dr. Ann Able", kind="primary care")).id
        b = save_partner(db, Partner(name="Dr. Bob Baker", kind="chiropractor")).id
        pid = save_patient(db, Patient(record_number="MRN1", name="Pat One"))
        dates = {a: ["2026-03-01", "2026-03-10", "2026-02-03", "2025-03-05"],
                 b: ["2026-01-20"]}
        n = 0
        for partner, days in dates.items():
            for d in days:
                n += 1
                save_episode(db, Episode(id=f"E{n}", patient_record_number="MRN1",
                                         partner_id=partner, referral_date=d,
                                         body_region="low back"), pid)
    return a, b


def test_dashboard_summary_counts_month_to_date_against_the_same_days(db):
    _clinic(db)
    s = dashboard_summary(db, TODAY)
    assert s.month_to_date == 2          # Mar 1 and Mar 10
    assert s.last_month_same_days == 1   # Feb 3 (Feb 1-15)
    assert s.last_month_total == 1
    assert s.year_ago_same_days == 1     # 2025-03-05
    assert s.active_partners == 2        # both referred within 90 days
    assert s.partners_total == 2
    assert len(s.per_month) == 24 and s.per_month[-1] == ("2026-03", 2)
    assert s.mcid.n == 0 and s.mcid.rate is None and s.nps.n == 0


def test_partners_page_filters_sorts_and_pages_in_sql(db):
    _clinic(db)
    page = partners_page(db, TODAY, text="bak")
    assert [r.name for r in page.rows] == ["Dr. Bob Baker"] and page.matched == 1
    assert page.total == 2
    page = partners_page(db, TODAY, sort="recent", descending=True)
    assert [(r.name, r.recent) for r in page.rows] == [("Dr. Ann Able", 3), ("Dr. Bob Baker", 1)]
    page = partners_page(db, TODAY, limit=1, offset=1)
    assert [r.name for r in page.rows] == ["Dr. Bob Baker"] and page.matched == 2
    # A filter with SQL wildcards matches them literally.
    assert partners_page(db, TODAY, text="%").matched == 0


def test_partner_trend_arrows():
    row = PartnerRow(1, "x", None, "other", "active", recent=2, baseline_per_90=8.0,
                           last_touch=None, nps=None, nps_n=0, mcid_rate=None, mcid_n=0)
    assert row.trend == "↓"
    assert row.__class__(**{**row.__dict__, "recent": 8}).trend == "→"
    assert row.__class__(**{**row.__dict__, "recent": 12}).trend == "↑"


def test_find_episodes_and_next_timepoint_on_the_demo(demo_db):
    rows = find_episodes(demo_db, "E00001")
    assert [r.id for r in rows] == ["E00001"]
    detail = episode_detail(demo_db, "E00001")
    assert next_timepoint(detail, detail.responses[0].instrument) in (
        "progress", "discharge", "follow_up")
    assert next_timepoint(detail, "nprs") == "intake"
    assert default_instrument(detail, REGION_INSTRUMENT) == detail.episode[
        "instrument"]


def test_demo_dashboard_and_partner_detail(demo_db):
    s = dashboard_summary(demo_db, DEMO_TODAY)
    assert s.partners_total == 40 and s.mcid.n > 100 and s.nps.n > 100
    hale = partners_page(demo_db, DEMO_TODAY, text="Margaret Hale").rows[0]
    assert hale.trend == "↓"
    d = partner_detail(demo_db, hale.id, DEMO_TODAY)
    assert d.partner["name"] == "Dr. Margaret Hale"
    assert sum(n for _, n in d.per_month) > 0 and d.nps.n > 0


@pytest.mark.parametrize(
    ("first", "last", "months", "edges"),
    [
        # whole months in the middle, days left at both edges
        (date(2025, 11, 23), date(2026, 11, 22), ("2025-12", "2026-10"),
         [("2025-11-23", "2025-11-30"), ("2026-11-01", "2026-11-22")]),
        # starts on the 1st and ends on a month's last day: no edges
        (date(2026, 1, 1), date(2026, 2, 28), ("2026-01", "2026-02"), []),
        # inside one month: all edge
        (date(2026, 3, 2), date(2026, 3, 30), None, [("2026-03-02", "2026-03-30")]),
        # across two partial months: all edge
        (date(2026, 3, 20), date(2026, 4, 10), None, [("2026-03-20", "2026-04-10")]),
    ],
)
def test_split_months(first, last, months, edges):
    split = split_months(first, last)
    assert split.months == months and list(split.edges) == edges


def _raw_referrals(db, first, last, partner_id=None):
    sql = "SELECT count(*) FROM episodes WHERE referral_date BETWEEN ? AND ?"
    params = [first.isoformat(), last.isoformat()]
    if partner_id is not None:
        sql += " AND partner_id = ?"
        params.append(partner_id)
    return db.execute(sql, params).fetchone()[0]


def test_rollup_reads_match_the_raw_rows_on_the_demo(demo_db):
    """Every number read from the monthly rollups equals the same number counted from the rows."""
    today = DEMO_TODAY
    per_month = referrals_per_month(demo_db, today, 24)
    for key, n in per_month:
        first = date.fromisoformat(f"{key}-01")
        assert n == _raw_referrals(demo_db, first, min(month_end(first), today)), key
    year_first = today - timedelta(days=364)
    raw = demo_db.execute(
        "SELECT sum(score >= 9), sum(score BETWEEN 7 AND 8), sum(score <= 6) FROM nps_responses"
        " WHERE date BETWEEN ? AND ?", [year_first.isoformat(), today.isoformat()]).fetchone()
    nps = nps_between(demo_db, year_first, today)
    assert (nps.promoters, nps.passives, nps.detractors) == tuple(raw)
    stats = partner_stats(demo_db, today)
    recent_first = today - timedelta(days=89)
    for pid, st in stats.items():
        assert st.recent == _raw_referrals(demo_db, recent_first, today, pid)
        assert st.baseline == _raw_referrals(demo_db, recent_first - timedelta(days=365),
                                             recent_first - timedelta(days=1), pid)
        p, d, n = demo_db.execute(
            "SELECT coalesce(sum(n.score >= 9), 0), coalesce(sum(n.score <= 6), 0), count(*)"
            " FROM nps_responses n JOIN episodes e ON e.id = n.episode_id"
            " WHERE e.partner_id = ? AND n.date BETWEEN ? AND ?",
            [pid, year_first.isoformat(), today.isoformat()]).fetchone()
        assert (st.nps_net, st.nps_n) == (p - d, n)
        assert st.mcid_n == demo_db.execute(
            "SELECT count(DISTINCT episode_id) FROM episode_outcomes WHERE partner_id = ?"
            " AND mcid_met IS NOT NULL AND referral_date BETWEEN ? AND ?",
            [pid, year_first.isoformat(), today.isoformat()]).fetchone()[0]
    active = demo_db.execute(
        "SELECT count(DISTINCT partner_id) FROM episodes WHERE referral_date BETWEEN ? AND ?",
        [recent_first.isoformat(), today.isoformat()]).fetchone()[0]
    assert dashboard_summary(demo_db, today).active_partners == active
    # The partner screen's outcomes come from the scorecard (one reader of the roll-ups):
    # checked against the raw episode_outcomes rows over the same 365 days.
    from outcomes.periods import default_period
    from outcomes.reports.scorecard import scorecard

    year = default_period(today)
    card = scorecard(demo_db, year.start, year.end, partner_ids=[1], min_n=0).as_dict()
    for scale, block in card["partners"][0]["outcomes"].items():
        n, mean = demo_db.execute(
            "SELECT count(*), avg(improvement) FROM episode_outcomes WHERE partner_id = 1"
            " AND scale = ? AND intake_score IS NOT NULL AND final_score IS NOT NULL"
            " AND carried_forward = 0 AND referral_date BETWEEN ? AND ?",
            [scale, *year.iso()]).fetchone()
        assert block["n"] == n and block["mean_improvement"] == pytest.approx(mean)


def _outcome(db, episode_id, scale, instrument, partner_id, met):
    db.execute(
        "INSERT INTO episode_outcomes (episode_id, scale, instrument, partner_id, referral_date,"
        " intake_score, final_score, improvement, mcid_met) VALUES (?,?,?,?,?,?,?,?,?)",
        [episode_id, scale, instrument, partner_id, "2026-03-01", 40.0, 50.0, 10.0, met])


def test_mcid_counts_each_episode_once(db):
    a, _b = _clinic(db)
    with transaction(db):
        db.execute("DELETE FROM episode_outcomes")
        # E1: PROMIS-10, two scales, one reached the MCID -> one episode, met.
        _outcome(db, "E1", "gph", "promis10", a, 1)
        _outcome(db, "E1", "gmh", "promis10", a, 0)
        # E2: ODI not reached plus NPRS not reached -> one episode, not met.
        _outcome(db, "E2", "odi", "odi", a, 0)
        _outcome(db, "E2", "nprs", "nprs", a, 0)
        # E3: a scale with no published MCID is not judged at all.
        _outcome(db, "E3", "psfs", "psfs", a, None)
    row = partners_page(db, TODAY, text="Able").rows[0]
    assert (row.mcid_n, row.mcid_rate) == (2, 0.5)
    assert clinic_mcid(db, date(2025, 3, 15), TODAY) == Rate(met=1, n=2)
    assert clinic_mcid(db, date(2025, 3, 15), TODAY, partner_id=a) == Rate(1, 2)


def test_find_episodes_by_record_number_name_and_id_prefix(demo_db, monkeypatch):
    some = find_episodes(demo_db, "", 5)[0]
    assert some.id in [r.id for r in find_episodes(demo_db, some.record_number)]
    assert some.id in [r.id for r in find_episodes(demo_db, some.id.lower())]
    last = (some.patient or "").split()[-1]
    found = find_episodes(demo_db, last.upper(), 500)
    assert found and all(last.lower() in (r.patient or "").lower() for r in found)
    # Many matching patients: the newest-first walk gives the same answer.
    monkeypatch.setattr("outcomes.reports.episodes.FIND_PATIENTS_MAX", 1)
    assert [r.id for r in find_episodes(demo_db, last, 500)] == [r.id for r in found]
    assert find_episodes(demo_db, "no such patient") == []
