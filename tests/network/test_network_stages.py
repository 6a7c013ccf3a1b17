"""Stage suggestion from activity, and the user's choice winning over it."""

from __future__ import annotations

from datetime import timedelta

from sqlite_utils import Database

from outcomes.network.partners import change_partner, set_stage
from outcomes.network.stages import (
    Activity,
    apply_stage_suggestions,
    partner_stats,
    stage_from_activity,
    suggest_stage,
)
from tests.network.helpers import TODAY, add_partner, add_referral, add_touch, steady


def act(**kw: object) -> Activity:
    base: dict[str, object] = dict(
        referrals_total=0, referrals_recent=0, referrals_baseline=0, referrals_year=0,
        referrals_prior_year=0, first_referral=None, last_referral=None, touches_total=0)
    base.update(kw)
    return Activity(**base)  # type: ignore[arg-type]


def test_stage_rules() -> None:
    old = TODAY - timedelta(days=600)
    assert stage_from_activity(act(), TODAY) == "prospect"
    assert stage_from_activity(act(touches_total=2), TODAY) == "outreach"
    assert stage_from_activity(act(outbound_recent=1), TODAY) == "active"
    assert stage_from_activity(act(referrals_total=5, first_referral=old,
                                   last_referral=TODAY - timedelta(days=181)), TODAY) == "dormant"
    assert stage_from_activity(act(referrals_total=2, referrals_recent=2, referrals_year=2,
                                   first_referral=TODAY - timedelta(days=40),
                                   last_referral=TODAY), TODAY) == "active"
    # 12 in 90 days after 8 in the year before: a clear rise.
    assert stage_from_activity(act(referrals_total=20, referrals_recent=12,
                                   referrals_baseline=8, referrals_year=14,
                                   first_referral=old, last_referral=TODAY), TODAY) == "growing"
    # steady 2 a month for over a year: mature, not growing
    assert stage_from_activity(act(referrals_total=48, referrals_recent=6,
                                   referrals_baseline=24, referrals_year=24,
                                   referrals_prior_year=24, first_referral=old,
                                   last_referral=TODAY), TODAY) == "mature"


def test_suggestion_from_the_database(db: Database) -> None:
    steady_id = add_partner(db, "Dr. Steady")
    steady(db, steady_id, 3.0, days=700)
    assert suggest_stage(db, steady_id, TODAY) == "mature"
    quiet = add_partner(db, "Dr. Quiet")
    add_referral(db, quiet, TODAY - timedelta(days=300))
    assert suggest_stage(db, quiet, TODAY) == "dormant"
    courting = add_partner(db, "Dr. Courting", stage="prospect")
    add_touch(db, courting, TODAY - timedelta(days=3))
    assert suggest_stage(db, courting, TODAY) == "outreach"


def test_apply_changes_only_suggested_stages(db: Database) -> None:
    mine = add_partner(db, "Dr. Mine", stage="growing", stage_source="user")
    theirs = add_partner(db, "Dr. Theirs", stage="growing")
    for pid in (mine, theirs):
        add_referral(db, pid, TODAY - timedelta(days=300))
    changes = apply_stage_suggestions(db, TODAY)
    assert [(c.partner_id, c.suggested) for c in changes] == [(theirs, "dormant")]
    stages = dict(db.execute("SELECT id, stage FROM partners").fetchall())
    assert stages == {mine: "growing", theirs: "dormant"}
    assert apply_stage_suggestions(db, TODAY) == []  # idempotent


def test_user_choice_and_handing_it_back(db: Database) -> None:
    pid = add_partner(db, "Dr. X")
    add_referral(db, pid, TODAY - timedelta(days=300))
    assert set_stage(db, pid, "core", TODAY) == "mature"  # synonym
    assert db.execute("SELECT stage_source FROM partners WHERE id = ?", [pid]).fetchone()[0] \
        == "user"
    assert apply_stage_suggestions(db, TODAY) == []
    stats = partner_stats(db, pid, TODAY)
    assert (stats.stage, stats.suggested_stage) == ("mature", "dormant")
    assert set_stage(db, pid, None, TODAY) == "dormant"
    assert db.execute("SELECT stage_source FROM partners WHERE id = ?", [pid]).fetchone()[0] \
        == "suggested"


def test_update_partner_validates_and_reports_changes(db: Database) -> None:
    import pytest

    from outcomes.errors import ValidationError

    pid = add_partner(db, "Dr. Edit", npi=None)
    assert change_partner(db, pid, {"phone": "503-555-0100", "kind": "ortho"}) == {
        "phone": "503-555-0100", "kind": "orthopedic surgeon"}
    assert change_partner(db, pid, {"phone": "503-555-0100"}) == {}
    with pytest.raises(ValidationError, match="check digit"):
        change_partner(db, pid, {"npi": "1234567890"})
    other = add_partner(db, "Dr. Other", npi="1234567893")
    assert other
    with pytest.raises(ValidationError, match="already belongs"):
        change_partner(db, pid, {"npi": "1234567893"})


def test_partner_stats_numbers(db: Database) -> None:
    pid = add_partner(db, "Dr. Stats")
    add_referral(db, pid, TODAY - timedelta(days=30), status="evaluated",
                 first_visit=TODAY - timedelta(days=26))
    add_referral(db, pid, TODAY - timedelta(days=20), status="discharged",
                 first_visit=TODAY - timedelta(days=18), discharge=TODAY - timedelta(days=2))
    add_referral(db, pid, TODAY - timedelta(days=10), status="not_scheduled")
    add_referral(db, pid, TODAY - timedelta(days=1))  # pending: not in the conversion rate
    add_touch(db, pid, TODAY - timedelta(days=4), amount=40, method="lunch and learn")
    s = partner_stats(db, pid, TODAY)
    assert (s.referrals_total, s.referrals_last_90, s.converted, s.closed) == (4, 4, 2, 3)
    assert s.conversion_rate == 0.667
    assert s.median_days_to_first_visit == 3.0
    assert s.ledger_in == 4 and s.ledger_out == 0
    assert s.last_touch == TODAY - timedelta(days=4)
    assert s.spend_this_year == 40
    assert len(s.communications_owed) == 1
