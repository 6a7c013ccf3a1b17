"""views.py: the read-only queries behind the dashboard, on small hand-made data and the demo."""

from __future__ import annotations

from datetime import date

import pytest
from tests.conftest import DEMO_TODAY

from outcomes import views
from outcomes.db import transaction
from outcomes.episodes import save_episode, save_patient
from outcomes.models import Episode, Partner, Patient
from outcomes.partners import save_partner

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
    assert views.add_months(day, months) == expected


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
    s = views.dashboard_summary(db, TODAY)
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
    page = views.partners_page(db, TODAY, text="bak")
    assert [r.name for r in page.rows] == ["Dr. Bob Baker"] and page.matched == 1
    assert page.total == 2
    page = views.partners_page(db, TODAY, sort="recent", descending=True)
    assert [(r.name, r.recent) for r in page.rows] == [("Dr. Ann Able", 3), ("Dr. Bob Baker", 1)]
    page = views.partners_page(db, TODAY, limit=1, offset=1)
    assert [r.name for r in page.rows] == ["Dr. Bob Baker"] and page.matched == 2
    # A filter with SQL wildcards matches them literally.
    assert views.partners_page(db, TODAY, text="%").matched == 0


def test_partner_trend_arrows():
    row = views.PartnerRow(1, "x", None, "other", "active", recent=2, baseline_per_90=8.0,
                           last_touch=None, nps=None, nps_n=0, mcid_rate=None, mcid_n=0)
    assert row.trend == "↓"
    assert row.__class__(**{**row.__dict__, "recent": 8}).trend == "→"
    assert row.__class__(**{**row.__dict__, "recent": 12}).trend == "↑"


def test_find_episodes_and_next_timepoint_on_the_demo(demo_db):
    rows = views.find_episodes(demo_db, "E00001")
    assert [r.id for r in rows] == ["E00001"]
    detail = views.episode_detail(demo_db, "E00001")
    assert views.next_timepoint(detail, detail.responses[0].instrument) in (
        "progress", "discharge")
    assert views.next_timepoint(detail, "nprs") == "intake"
    assert views.default_instrument(detail, views.REGION_INSTRUMENT) == detail.episode[
        "instrument"]


def test_demo_dashboard_and_partner_detail(demo_db):
    s = views.dashboard_summary(demo_db, DEMO_TODAY)
    assert s.partners_total == 40 and s.mcid.n > 100 and s.nps.n > 100
    hale = views.partners_page(demo_db, DEMO_TODAY, text="Margaret Hale").rows[0]
    assert hale.trend == "↓"
    d = views.partner_detail(demo_db, hale.id, DEMO_TODAY)
    assert d.partner["name"] == "Dr. Margaret Hale"
    assert sum(n for _, n in d.per_month) > 0 and d.outcomes
