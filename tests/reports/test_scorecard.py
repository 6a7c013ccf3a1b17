"""Scorecards on the hand-built clinic of conftest.py; every expected number is worked by hand
in that file's docstring."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

import pytest
from sqlite_utils import Database

from outcomes.errors import ValidationError
from outcomes.reports.nps import nps_stats
from outcomes.reports.scorecard import default_period, scorecard
from outcomes.reports.statistics import wilson
from tests.clinic_fixture import END, START, add_episode, score
from tests.conftest import DEMO_TODAY


def scorecard_json(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The scorecard as ``outcomes scorecard --json`` prints it (the documented shape)."""
    return scorecard(*args, **kwargs).as_dict()


def _partner(card: dict[str, Any], pid: int) -> dict[str, Any]:
    return next(p for p in card["partners"] if p["partner_id"] == pid)


def test_partner_counts_and_medians(db: Database, clinic: dict[str, int]) -> None:
    a = _partner(scorecard_json(db, START, END, min_n=1), clinic["a"])
    assert (a["name"], a["npi"], a["kind"]) == ("Dr. Ada Stone", "1234567893", "primary care")
    # A1-A8 referred in the period (A9 in December 2025 is not); A8 never seen.
    assert (a["referrals"], a["evaluated"], a["discharged"]) == (8, 7, 7)
    assert a["conversion_rate"] == pytest.approx(7 / 8)
    assert a["median_days_to_first_visit"] == 5.0   # 2 3 4 [5] 6 8 10
    assert a["median_visits"] == 8.0                # 3 6 7 [8] 9 10 12


def test_odi_percent_mcid_with_carried_forward_apart(db: Database,
                                                     clinic: dict[str, int]) -> None:
    odi = _partner(scorecard_json(db, START, END, min_n=1), clinic["a"])["outcomes"]["odi"]
    # A1 40->20 (+20, needs 12: met), A2 50->40 (+10, needs 15: no), A3 30->21 (+9, needs 9: met)
    assert odi["n"] == 3
    assert odi["mean_intake"] == pytest.approx(40.0)
    assert odi["mean_final"] == pytest.approx(27.0)
    assert odi["mean_improvement"] == pytest.approx(13.0)
    assert odi["mcid_rate"] == pytest.approx(2 / 3)
    assert odi["mcid_rate_ci95"] == pytest.approx(list(wilson(2, 3) or ()))
    assert (odi["mcid"], odi["mcid_unit"]) == (30.0, "percent")
    # A4 self-discharged: progress 30 carried forward, reported apart, never in n.
    assert odi["n_carried_forward"] == 1
    cf = odi["carried_forward"]
    assert (cf["n"], cf["mean_intake"], cf["mean_final"], cf["mean_improvement"]) == \
        (1, 60.0, 30.0, 30.0)
    assert cf["mcid_rate"] == 1.0


def test_lefs_higher_is_better(db: Database, clinic: dict[str, int]) -> None:
    lefs = _partner(scorecard_json(db, START, END, min_n=1), clinic["a"])["outcomes"]["lefs"]
    # A6 30->45 (+15, met), A7 40->35 (-5, not met)
    assert (lefs["n"], lefs["mean_intake"], lefs["mean_final"]) == (2, 35.0, 40.0)
    assert lefs["mean_improvement"] == pytest.approx(5.0)
    assert lefs["mcid_rate"] == 0.5
    assert (lefs["mcid"], lefs["mcid_unit"]) == (9.0, "points")
    assert lefs["n_carried_forward"] == 0 and lefs["carried_forward"] is None


def test_scale_without_mcid_has_null_mcid_fields(db: Database, clinic: dict[str, int]) -> None:
    work = _partner(scorecard_json(db, START, END, min_n=1), clinic["a"])["outcomes"]["quickdash_work"]
    assert work["n"] == 2
    assert work["mean_improvement"] == pytest.approx(22.5)  # (25 + 20) / 2, lower is better
    assert work["mcid"] is None and work["mcid_unit"] is None
    assert work["mcid_rate"] is None and work["mcid_rate_ci95"] is None


def test_missing_discharge_is_not_a_pair(db: Database, clinic: dict[str, int]) -> None:
    # A5 has an intake only and no progress score: in no outcome count at all.
    rows = db.execute("SELECT final_score, carried_forward FROM episode_outcomes"
                      " WHERE episode_id = 'A5'").fetchall()
    assert rows == [(None, 0)]
    odi = _partner(scorecard_json(db, START, END, min_n=1), clinic["a"])["outcomes"]["odi"]
    assert odi["n"] + odi["n_carried_forward"] == 4  # A1 A2 A3 + A4


def test_clinic_block_includes_self_referred_and_episode_less_nps(
        db: Database, clinic: dict[str, int]) -> None:
    c = scorecard_json(db, START, END, min_n=1)["clinic"]
    assert (c["referrals"], c["evaluated"], c["discharged"]) == (9, 8, 8)  # + S1
    assert c["median_days_to_first_visit"] == 4.5  # 1 2 3 4 | 5 6 8 10
    assert c["median_visits"] == 7.5               # 3 4 6 7 | 8 9 10 12
    odi = c["outcomes"]["odi"]
    assert odi["n"] == 4 and odi["mean_improvement"] == pytest.approx(79 / 4)
    assert odi["mcid_rate"] == 0.75
    assert "partner_id" not in c and "name" not in c
    # NPS: A's five answers plus the clinic-wide 10 (the December answer is outside).
    assert (c["nps"]["promoters"], c["nps"]["passives"], c["nps"]["detractors"]) == (3, 1, 2)
    assert c["nps"]["score"] == pytest.approx(100 / 6)
    assert c["nps"]["moe95"] == pytest.approx(196 * ((5 / 6 - (1 / 6) ** 2) / 6) ** 0.5)


def test_partner_nps_by_response_date(db: Database, clinic: dict[str, int]) -> None:
    nps = _partner(scorecard_json(db, START, END, min_n=1), clinic["a"])["nps"]
    assert nps == {"n": 5, "score": 0.0, "moe95": pytest.approx(78.4), "promoters": 2,
                   "passives": 1, "detractors": 2}
    # Moving the period to December 2025 picks up the older answer, not the May ones.
    dec = scorecard_json(db, date(2025, 12, 1), date(2025, 12, 31), min_n=1,
                    partner_ids=[clinic["a"]])
    assert dec["partners"][0]["nps"]["n"] == 1
    assert dec["partners"][0]["referrals"] == 1  # A9


def test_empty_partner(db: Database, clinic: dict[str, int]) -> None:
    card = scorecard_json(db, START, END, min_n=1)
    assert clinic["b"] not in [p["partner_id"] for p in card["partners"]]  # not listed by default
    card = scorecard_json(db, START, END, min_n=1, partner_ids=[clinic["b"]])
    [b] = card["partners"]
    assert (b["referrals"], b["evaluated"], b["discharged"]) == (0, 0, 0)
    assert b["conversion_rate"] is None and b["median_visits"] is None
    assert b["median_days_to_first_visit"] is None
    assert b["outcomes"] == {}
    assert b["nps"] == {"n": 0, "score": None, "moe95": None, "promoters": 0, "passives": 0,
                        "detractors": 0}
    with pytest.raises(ValidationError):
        scorecard_json(db, START, END, partner_ids=[999])


def test_suppression_at_min_n(db: Database, clinic: dict[str, int]) -> None:
    card = scorecard_json(db, START, END)  # the setting: 5
    assert card["min_n"] == 5
    a = _partner(card, clinic["a"])
    odi = a["outcomes"]["odi"]
    assert odi["n"] == 3 and odi["suppressed"] is True
    assert odi["mean_intake"] is None and odi["mcid_rate"] is None
    assert odi["mcid_rate_ci95"] is None
    assert odi["carried_forward"]["suppressed"] is True
    assert a["nps"]["n"] == 5 and a["nps"]["score"] == 0.0  # 5 answers: shown at min_n 5
    assert a["median_visits"] == 8.0                       # 7 discharged with visits
    card = scorecard_json(db, START, END, min_n=8)  # 7 seen, 7 discharged, 5 answers: all < 8
    a = _partner(card, clinic["a"])
    assert a["nps"]["score"] is None and a["nps"]["suppressed"] is True
    assert a["nps"]["promoters"] == 2  # counts stay in the clinic's own report
    assert a["median_visits"] is None and a["median_days_to_first_visit"] is None
    assert a["referrals"] == 8


def test_period_boundaries_are_inclusive(db: Database, clinic: dict[str, int]) -> None:
    one_day = scorecard_json(db, date(2026, 1, 10), date(2026, 1, 10), min_n=1)
    assert one_day["clinic"]["referrals"] == 1  # A1
    with pytest.raises(ValidationError):
        scorecard_json(db, END, START)


def test_never_reads_patients(db: Database, clinic: dict[str, int]) -> None:
    def deny_patients(action: int, arg1: Any, arg2: Any, *_: Any) -> int:
        if action == sqlite3.SQLITE_READ and arg1 == "patients":
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    db.conn.set_authorizer(deny_patients)
    try:
        scorecard_json(db, START, END, min_n=1)
        nps_stats(db, START, END, by="partner", min_n=1)
        with pytest.raises(sqlite3.DatabaseError):  # the guard works
            db.execute("SELECT name FROM patients").fetchall()
    finally:
        db.conn.set_authorizer(None)


def test_summary_follows_later_writes(db: Database, clinic: dict[str, int]) -> None:
    # A5 gets its discharge score later: it becomes a pair (44 -> 22: +22, needs 13.2: met).
    score(db, "A5", "odi", "discharge", 22, date(2026, 5, 20))
    odi = _partner(scorecard_json(db, START, END, min_n=1), clinic["a"])["outcomes"]["odi"]
    assert odi["n"] == 4 and odi["mcid_rate"] == 0.75


def test_default_period_is_365_days() -> None:
    assert default_period(date(2026, 11, 22)) == (date(2025, 11, 23), date(2026, 11, 22))


def test_nps_stats_groups_and_mcid_split(db: Database, clinic: dict[str, int]) -> None:
    stats = nps_stats(db, START, END, by="partner", min_n=1)
    assert stats["overall"]["n"] == 6
    labels = {g["label"]: g for g in stats["groups"]}
    assert labels["Dr. Ada Stone"]["n"] == 5 and labels["Dr. Ada Stone"]["score"] == 0.0
    assert labels["no episode"]["n"] == 1
    # By MCID: A1 (met, 10) A3 (met, 6) A6 (LEFS met, 8) -> reached: 1 P, 1 pass, 1 D = 0;
    # A2 (not met, 9) A7 (not met, 3) -> 1 P, 1 D = 0; the episode-less answer is unknown.
    reached, missed = stats["by_mcid"]["reached"], stats["by_mcid"]["not_reached"]
    assert (reached["promoters"], reached["passives"], reached["detractors"]) == (1, 1, 1)
    assert (missed["promoters"], missed["passives"], missed["detractors"]) == (1, 0, 1)
    assert stats["by_mcid"]["unknown"] == 1
    months = nps_stats(db, START, END, by="month", min_n=1)["groups"]
    assert [(g["label"], g["n"]) for g in months] == [("2026-05", 6)]
    clinicians = nps_stats(db, START, END, by="clinician", min_n=1)["groups"]
    assert [(g["label"], g["n"]) for g in clinicians] == [("T. Tester, PT", 5),
                                                         ("no episode", 1)]
    suppressed = nps_stats(db, START, END, by="partner")["groups"]
    assert all(g["score"] is None for g in suppressed if g["n"] < 5)
    with pytest.raises(ValidationError):
        nps_stats(db, START, END, by="year")


def test_nps_scale_responses_never_count_as_outcomes(db: Database,
                                                     clinic: dict[str, int]) -> None:
    add_episode(db, "N1", clinic["b"], date(2026, 2, 1), 1, 2, True)
    assert "nps" not in scorecard_json(db, START, END, min_n=1)["clinic"]["outcomes"]


def test_scorecards_at_several_min_n_equal_one_scorecard_each(demo_db) -> None:  # type: ignore[no-untyped-def]
    from outcomes.reports.scorecard import scorecards

    start, end = DEMO_TODAY - timedelta(days=400), DEMO_TODAY
    pid = demo_db.execute("SELECT partner_id FROM episodes GROUP BY 1 ORDER BY count(*) DESC"
                          " LIMIT 1").fetchone()[0]
    both = scorecards(demo_db, start, end, (0, 5), partner_ids=[pid], recovery=True)
    for card, min_n in zip(both, (0, 5), strict=True):
        one = scorecard(demo_db, start, end, min_n=min_n, partner_ids=[pid], recovery=True)
        assert card.as_dict() == one.as_dict()
    assert both[0].as_dict() != both[1].as_dict()  # min_n 0 shows what 5 suppresses
