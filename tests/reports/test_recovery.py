"""Time to recovery read from the database: who recovers when, who is censored when, who is
left out, and the curves per partner, clinic and group."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.models import Partner
from outcomes.network.partners import save_partner
from outcomes.periods import Period
from outcomes.reports import recovery
from outcomes.reports.recovery import CLINIC, recovery_by_group, recovery_by_partner
from outcomes.store.database import transaction
from tests.clinic_fixture import add_episode, score

PERIOD = Period(date(2026, 1, 1), date(2026, 6, 30))
FIRST = date(2026, 1, 5)  # every episode's first visit (referred 2026-01-03)


def day(n: int) -> date:
    return FIRST + timedelta(days=n)


@pytest.fixture
def followed(db: Database) -> dict[str, int]:
    """ODI's MCID is 30% of intake (intake 40: 12 points; 50: 15).

    Partner P: R1 recovers on day 42 (day 21 short of it); R2 on day 14 (the later discharge
    also reaches it: the first counts); R3 censored on day 28 (its last response; the
    discharge date later says nothing); R4 intake only (left out); R5 censored on day 56; R6
    reaches the MCID on the NPRS on day 21 but not on the ODI (censored at 35 on the ODI).
    Partner Q: Q1 recovers on day 7. Q2 was referred before the period."""
    with transaction(db):
        p = save_partner(db, Partner(name="Dr. P", kind="primary care", stage="active")).id
        q = save_partner(db, Partner(name="Dr. Q", kind="primary care", stage="active")).id
    referred = FIRST - timedelta(days=2)
    for eid, partner in (("R1", p), ("R2", p), ("R3", p), ("R4", p), ("R5", p), ("R6", p),
                         ("Q1", q)):
        add_episode(db, eid, partner, referred, 2, 6, True)
    add_episode(db, "Q2", q, date(2025, 12, 1), 2, 6, True)
    plan: list[tuple[str, str, str, float, int]] = [
        ("R1", "odi", "intake", 40, 0), ("R1", "odi", "progress", 30, 21),
        ("R1", "odi", "discharge", 20, 42),
        ("R2", "odi", "intake", 50, 0), ("R2", "odi", "progress", 30, 14),
        ("R2", "odi", "discharge", 10, 35),
        ("R3", "odi", "intake", 40, 0), ("R3", "odi", "progress", 38, 28),
        ("R4", "odi", "intake", 40, 0),
        ("R5", "odi", "intake", 40, 0), ("R5", "odi", "discharge", 35, 56),
        ("R6", "odi", "intake", 40, 0), ("R6", "odi", "discharge", 36, 35),
        ("R6", "nprs", "intake", 8, 0), ("R6", "nprs", "progress", 5, 21),
        ("Q1", "odi", "intake", 40, 0), ("Q1", "odi", "progress", 28, 7),
        ("Q2", "odi", "intake", 40, -30), ("Q2", "odi", "discharge", 10, -10),
    ]
    for eid, instrument, timepoint, value, offset in plan:
        score(db, eid, instrument, timepoint, value, day(offset))
    return {"p": p, "q": q}


def by_id(found: list[recovery.Observation]) -> dict[str, tuple[int, bool]]:
    return {o.episode_id: (o.days, o.recovered) for o in found}


def test_who_recovers_when_and_who_is_censored(db: Database, followed: dict[str, int]) -> None:
    found = recovery.observations(db, PERIOD)
    assert by_id(found) == {"R1": (42, True), "R2": (14, True), "R3": (28, False),
                            "R5": (56, False), "R6": (35, False), "Q1": (7, True)}
    assert {o.scale for o in found} == {"odi"}
    # No diagnosis recorded: the summary's condition group of a low back episode.
    assert {o.group for o in found} == {"Other low back"}


def test_the_primary_measure_given_by_the_caller_wins(db: Database,
                                                      followed: dict[str, int]) -> None:
    found = recovery.observations(db, PERIOD, primary={"R6": "nprs"})
    # NPRS MCID is 2 points: 8 -> 5 on day 21.
    assert by_id(found)["R6"] == (21, True)
    assert next(o.scale for o in found if o.episode_id == "R6") == "nprs"


def test_one_partners_curve_worked_by_hand(db: Database, followed: dict[str, int]) -> None:
    # P: 14 recovered (5 at risk), 28 censored, 35 censored, 42 recovered (2 at risk),
    # 56 censored. S(14) = 4/5, S(42) = 4/5 * 1/2 = 0.4: the median is 42 days, 6 weeks.
    curve = recovery.recovery_curve(db, followed["p"], PERIOD, min_n=5)
    assert (curve.n, curve.recovered, curve.censored) == (5, 2, 3)
    assert curve.median_days == 42 and curve.median_weeks == 6
    assert curve.steps == ((0.0, 14.0, 42.0), (1.0, pytest.approx(0.8), pytest.approx(0.4)))
    assert curve.median_ci_days is not None and curve.median_ci_days[1] is None


@pytest.mark.parametrize(("min_n", "suppressed"), [(4, False), (5, False), (6, True)])
def test_a_curve_on_fewer_than_min_n_episodes_is_suppressed(
        db: Database, followed: dict[str, int], min_n: int, suppressed: bool) -> None:
    curve = recovery.recovery_curve(db, followed["p"], PERIOD, min_n=min_n)
    assert curve.suppressed is suppressed
    assert (curve.median_days is None) is suppressed and (curve.steps is None) is suppressed
    assert curve.n == 5  # counts stay
    assert curve.as_dict().get("suppressed", False) is suppressed


def test_by_partner_and_clinic_from_one_read(db: Database, followed: dict[str, int]) -> None:
    curves = recovery_by_partner(db, PERIOD, min_n=1)
    assert curves[followed["p"]].n == 5 and curves[followed["q"]].n == 1
    assert curves[CLINIC].n == 6 and curves[CLINIC].recovered == 3
    # Q2 was referred before the period.
    assert curves[followed["q"]].median_days == 7


def test_groups_given_by_the_caller(db: Database, followed: dict[str, int]) -> None:
    groups = {"R1": "lumbar radiculopathy", "R2": "lumbar radiculopathy"}
    curves = recovery_by_group(db, PERIOD, partner_id=followed["p"], groups=groups, min_n=1)
    assert list(curves) == ["Other low back", "lumbar radiculopathy"]  # largest group first
    assert curves["lumbar radiculopathy"].n == 2 and curves["Other low back"].n == 3
    one = recovery.recovery_curve(db, None, PERIOD, group="lumbar radiculopathy",
                                  groups=groups, min_n=1)
    assert one.n == 2 and one.median_days == 28  # S = 1/2 at 14, then 0 at 42: midpoint


def test_as_dict_gives_weeks_and_the_step_chart(db: Database, followed: dict[str, int]) -> None:
    data = recovery.recovery_curve(db, followed["p"], PERIOD, min_n=5).as_dict()
    assert data["median_weeks"] == 6 and data["median_ci95_weeks"][1] is None
    assert data["steps"]["days"] == [0.0, 14.0, 42.0]


def test_never_reads_patients(db: Database, followed: dict[str, int]) -> None:
    def deny_patients(action: int, arg1: Any, arg2: Any, *_: Any) -> int:
        if action == sqlite3.SQLITE_READ and arg1 == "patients":
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    db.conn.set_authorizer(deny_patients)
    try:
        assert recovery_by_partner(db, PERIOD, min_n=1)[CLINIC].n == 6
    finally:
        db.conn.set_authorizer(None)


def test_on_the_demo_every_group_is_large_enough_or_suppressed(demo_db: Database) -> None:
    from outcomes.periods import default_period
    from tests.conftest import DEMO_TODAY

    curves = recovery_by_group(demo_db, default_period(DEMO_TODAY))
    assert curves
    for curve in curves.values():
        assert curve.suppressed == (curve.n < 5)
        if curve.median_days is not None and curve.median_ci_days is not None:
            lo, hi = curve.median_ci_days
            assert lo is None or lo <= curve.median_days
            assert hi is None or curve.median_days <= hi


def test_an_empty_primary_mapping_changes_nothing(demo_db: Database) -> None:
    from outcomes.periods import default_period
    from tests.conftest import DEMO_TODAY

    period = default_period(DEMO_TODAY)
    found = recovery.observations(demo_db, period)
    assert len(found) > 100 and found == recovery.observations(demo_db, period, primary={})


def test_each_episode_counts_on_the_summarys_primary_row(demo_db: Database) -> None:
    """The curve and the pooled MCID rate count an episode on the same measure."""
    from outcomes.measures.summary import episode_conditions
    from outcomes.periods import default_period
    from tests.conftest import DEMO_TODAY

    found = recovery.observations(demo_db, default_period(DEMO_TODAY))
    conditions = episode_conditions(demo_db, [o.episode_id for o in found])
    assert {o.episode_id: o.scale for o in found} == {
        o.episode_id: conditions[o.episode_id].primary_scale for o in found}
    assert {o.episode_id: o.group for o in found} == {
        o.episode_id: conditions[o.episode_id].condition_group for o in found}


def test_the_recovery_sentence_gives_median_interval_counts_and_the_clinic() -> None:
    from outcomes.reports.recovery import RecoveryCurve, recovery_sentence

    mine = RecoveryCurve(n=38, recovered=29, censored=9, median_days=30.0,
                         median_ci_days=(21.0, None), steps=None)
    clinic = RecoveryCurve(n=400, recovered=300, censored=100, median_days=35.0,
                           median_ci_days=(33.0, 38.0), steps=None)
    assert recovery_sentence(mine, clinic) == (
        "Median time to a clinically important improvement: 4.3 weeks (95% CI 3.0-not reached;"
        " 38 patients, 9 not recovered yet or lost); clinic 5.0 weeks.")
    few = RecoveryCurve(n=3, recovered=2, censored=1, median_days=None, median_ci_days=None,
                        steps=None, suppressed=True)
    assert recovery_sentence(few, clinic) == (
        "Time to recovery: not shown for fewer than the minimum number of patients (3);"
        " clinic 5.0 weeks.")
    none = RecoveryCurve(n=0, recovered=0, censored=0, median_days=None, median_ci_days=None,
                         steps=None)
    assert recovery_sentence(none, None) == (
        "Time to recovery: no patient with a follow-up score yet.")


def test_the_weekly_samples_hold_the_estimate_between_events() -> None:
    from outcomes.reports.recovery import RecoveryCurve, not_recovered_by_week

    curve = RecoveryCurve(n=4, recovered=3, censored=1, median_days=10.0,
                          median_ci_days=None,
                          steps=((0.0, 5.0, 10.0, 20.0), (1.0, 0.75, 0.5, 0.25)))
    # Week 0: day 0 (1.0); week 1: day 7 (after day 5: 0.75); week 2: day 14 (0.5); week 3:
    # day 21 (0.25); week 4 holds the last value.
    assert not_recovered_by_week(curve, 4) == [100.0, 75.0, 50.0, 25.0, 25.0]
    hidden = RecoveryCurve(n=3, recovered=2, censored=1, median_days=None,
                           median_ci_days=None, steps=None, suppressed=True)
    assert not_recovered_by_week(hidden, 4) is None


def _obs(partner: int, days: list[int], recovered: list[bool]) -> list[recovery.Observation]:
    return [recovery.Observation(f"{partner}-{i}", partner, "odi", "", d, r)
            for i, (d, r) in enumerate(zip(days, recovered, strict=True))]


def test_chart_of_stops_each_line_at_the_first_week_under_min_n() -> None:
    # Partner 1: recoveries on days 5, 12, 12, 19, 26, 40, four censored on day 70 (followed
    # into weeks 1..7: 10, 9, 7, 6, 5, 5, 4): with min_n 5 the line stops at week 6.
    mine = _obs(1, [5, 12, 12, 19, 26, 40, 70, 70, 70, 70], [True] * 6 + [False] * 4)
    # The rest of the clinic: five patients censored on day 30, followed into weeks 1..5, none
    # after (none passes the rule). The whole clinic is followed into week 7 by only the
    # partner's four censored on day 70: the clinic's line stops at week 6 too.
    rest = _obs(2, [30] * 5, [False] * 5)
    chart = recovery.chart_of(mine + rest, 1, 5)
    assert chart.mine_line == pytest.approx([100, 90, 70, 60, 50, 50, 40])
    weekly = recovery.not_recovered_by_week(chart.clinic, recovery.WEEKS)
    assert weekly is not None and chart.clinic_comparable
    assert chart.clinic_line == weekly[:7]
    # One patient fewer in the rest: 4, a small group, so no clinic line beside the partner.
    small = recovery.chart_of(mine + rest[:4], 1, 5)
    assert not small.clinic_comparable and small.clinic_line is None
    assert small.mine_line == chart.mine_line
    # min_n - 1 patients of the partner: no line at all.
    assert recovery.chart_of(mine[:4] + rest, 1, 5).mine_line is None


@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 200), st.booleans()), max_size=60),
       st.integers(1, 8))
def test_every_week_chart_of_draws_is_followed_by_min_n(rows: list[tuple[int, int, bool]],
                                                       min_n: int) -> None:
    found = [recovery.Observation(str(i), pid, "odi", "", d, r)
             for i, (pid, d, r) in enumerate(rows)]
    chart = recovery.chart_of(found, 1, min_n)
    mine_days = [o.days for o in found if o.partner_id == 1]
    all_days = [o.days for o in found]
    if chart.mine_line is None:
        assert chart.clinic_line is None
        return
    weekly = recovery.not_recovered_by_week(chart.mine, recovery.WEEKS)
    assert weekly is not None and chart.mine_line == weekly[:len(chart.mine_line)]
    for week in range(1, len(chart.mine_line)):
        assert recovery.followed(mine_days, week) >= min_n
    if chart.clinic_line is not None:
        for week in range(1, len(chart.clinic_line)):
            rest = recovery.followed(all_days, week) - recovery.followed(mine_days, week)
            assert recovery.followed(all_days, week) >= min_n
            assert rest == 0 or rest >= min_n
