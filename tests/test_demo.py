"""The demo clinic is deterministic and holds the stories the dashboard is meant to tell."""

from __future__ import annotations

from datetime import date, timedelta

from sqlite_utils import Database

from outcomes.demo import build_demo, is_demo
from outcomes.store.database import open_db
from tests.conftest import DEMO_TODAY


def referrals_between(db: Database, name: str, start: date, end: date) -> int:
    return db.execute(
        "SELECT count(*) FROM episodes e JOIN partners p ON p.id = e.partner_id"
        " WHERE p.name = ? AND e.referral_date > ? AND e.referral_date <= ?",
        [name, start.isoformat(), end.isoformat()],
    ).fetchone()[0]


def test_same_seed_same_clinic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dumps = []
    for name in ("a.db", "b.db"):
        db = open_db(tmp_path / name)
        build_demo(db, today=DEMO_TODAY)
        dumps.append(list(db.execute(
            "SELECT id, partner_id, referral_date, status, visits FROM episodes ORDER BY id")))
    assert dumps[0] == dumps[1]


def test_sizes_and_flag(demo_db: Database) -> None:
    assert is_demo(demo_db)
    assert 35 <= demo_db.execute("SELECT count(*) FROM partners").fetchone()[0] <= 45
    assert 1200 <= demo_db.execute("SELECT count(*) FROM episodes").fetchone()[0] <= 1800
    kinds = {r[0] for r in demo_db.execute("SELECT DISTINCT kind FROM partners")}
    assert {"primary care", "orthopedic surgeon", "neurologist", "sports medicine",
            "podiatrist", "chiropractor", "pain management", "personal-injury attorney"} <= kinds
    assert demo_db.execute("SELECT count(*) FROM nps_responses WHERE comment != ''"
                           ).fetchone()[0] > 20
    assert demo_db.execute("SELECT count(*) FROM outbound_referrals").fetchone()[0] > 10


def test_fading_partner_halved_and_not_contacted(demo_db: Database) -> None:
    name = "Dr. Margaret Hale"
    recent = referrals_between(demo_db, name, DEMO_TODAY - timedelta(days=120), DEMO_TODAY)
    before = referrals_between(demo_db, name, DEMO_TODAY - timedelta(days=480),
                               DEMO_TODAY - timedelta(days=120))
    assert recent * 3 <= before / 2  # per-month rate at most half (4 months against 12)
    last_touch = demo_db.execute(
        "SELECT max(t.date) FROM touchpoints t JOIN partners p ON p.id = t.partner_id"
        " WHERE p.name = ?", [name]).fetchone()[0]
    assert date.fromisoformat(last_touch) <= DEMO_TODAY - timedelta(days=120)


def test_growing_partner_grows(demo_db: Database) -> None:
    name = "Dr. Samuel Okafor"
    last6 = referrals_between(demo_db, name, DEMO_TODAY - timedelta(days=182), DEMO_TODAY)
    first6 = referrals_between(demo_db, name, DEMO_TODAY - timedelta(days=730),
                               DEMO_TODAY - timedelta(days=548))
    assert last6 > 2 * first6


def test_new_partner_has_exactly_one_recent_referral(demo_db: Database) -> None:
    rows = list(demo_db.execute(
        "SELECT e.referral_date FROM episodes e JOIN partners p ON p.id = e.partner_id"
        " WHERE p.name = 'Dr. Priya Raman'"))
    assert len(rows) == 1
    assert date.fromisoformat(rows[0][0]) >= DEMO_TODAY - timedelta(days=14)


def test_self_discharged_without_discharge_score(demo_db: Database) -> None:
    rows = list(demo_db.execute(
        "SELECT e.id, o.carried_forward FROM episodes e"
        " LEFT JOIN episode_outcomes o ON o.episode_id = e.id AND o.scale = e.instrument"
        " WHERE e.discharge_reason = 'self_discharged'"
        " AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.episode_id = e.id"
        "                 AND r.timepoint = 'discharge')"))
    assert len(rows) >= 3
    assert any(carried == 1 for _, carried in rows)  # a progress score carried forward


def test_no_date_after_today(demo_db: Database) -> None:
    today = DEMO_TODAY.isoformat()
    for table, column in (("episodes", "referral_date"), ("episodes", "first_visit_date"),
                          ("episodes", "discharge_date"), ("responses", "date"),
                          ("nps_responses", "date"), ("touchpoints", "date"),
                          ("outbound_referrals", "date"), ("communications", "date")):
        latest = demo_db.execute(f"SELECT max({column}) FROM {table}").fetchone()[0]
        assert latest is None or latest <= today, (table, column, latest)
