"""Patients getting worse: exactly-MCID worsening, percent MCIDs, no improvement after N visits."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.measures import catalog
from outcomes.network.alerts import URGENCY, compute_alerts
from outcomes.network.worsening import worse_by_mcid, worsening
from outcomes.periods import RECENT_DAYS
from outcomes.store import settings
from tests.network.helpers import TODAY, add_partner, add_referral

SCALES = {sid: s for i in catalog.instruments().values() for sid, s in i.scales.items()}


def episode(db: Database, partner: int | None, *, status: str = "in_care", visits: int = 3,
            clinician: str | None = "A. Lee, PT") -> str:
    eid = add_referral(db, partner, TODAY - timedelta(days=60), status=status,
                       first_visit=TODAY - timedelta(days=55))
    db.execute("UPDATE episodes SET visits = ?, clinician = ? WHERE id = ?",
               [visits, clinician, eid])
    return eid


def score(db: Database, eid: str, instrument: str, timepoint: str, when: date,
          scores: dict[str, float]) -> None:
    db.execute(
        "INSERT INTO responses (episode_id, instrument, instrument_version, timepoint, date,"
        " scores, scorable, created_at) VALUES (?, ?, '1', ?, ?, ?, 1, ?)",
        [eid, instrument, timepoint, when.isoformat(), json.dumps(scores), now_iso()])


INTAKE = TODAY - timedelta(days=50)
LATER = TODAY - timedelta(days=5)


def found(db: Database) -> dict[str, str]:
    return {w.episode_id: w.reason for w in worsening(db, TODAY, 6)}


# (instrument, scale, intake, latest, worse by the MCID?)
CASES = [
    ("lefs", "lefs", 40, 31, True),        # higher is better: 9 points down = the MCID of 9
    ("lefs", "lefs", 40, 31.01, False),    # 8.99 points: just short
    ("ndi", "ndi", 30, 40, True),          # higher is worse: 10 points up = the MCID of 10
    ("ndi", "ndi", 30, 39.99, False),
    ("odi", "odi", 40, 52, True),          # percent: 30% of an intake of 40 is 12 points
    ("odi", "odi", 40, 51.9, False),
    ("odi", "odi", 0, 20, False),          # a percent MCID of an intake of 0 is undefined
    ("odi", "odi", 0.3 * 50 / 0.3, 65, True),   # float noise must not hide exactly 15 points
]


@pytest.mark.parametrize(("instrument", "scale", "intake", "latest", "worse"), CASES)
def test_worse_by_the_mcid_at_its_edge(db: Database, instrument: str, scale: str,
                                       intake: float, latest: float, worse: bool) -> None:
    pid = add_partner(db, "Dr. Refer")
    eid = episode(db, pid, visits=2)
    score(db, eid, instrument, "intake", INTAKE, {scale: intake})
    score(db, eid, instrument, "progress", LATER, {scale: latest})
    assert found(db) == ({eid: "worse_by_mcid"} if worse else {})


@given(intake=st.floats(0, 100), latest=st.floats(0, 100))
def test_worse_by_mcid_mirrors_mcid_reached(intake: float, latest: float) -> None:
    """Worse by the MCID from intake to latest is reaching the MCID from latest back to intake
    for points scales; it never holds when the patient improved."""
    ndi, lefs = SCALES["ndi"], SCALES["lefs"]
    from outcomes.measures.scoring import mcid_reached

    assert (worse_by_mcid(ndi, intake, latest) is not None) == mcid_reached(ndi, latest, intake)
    assert (worse_by_mcid(lefs, intake, latest) is not None) == mcid_reached(lefs, latest,
                                                                            intake)
    if latest <= intake:
        assert worse_by_mcid(ndi, intake, latest) is None


def test_the_alert_names_the_clinician_and_the_referrer(db: Database) -> None:
    pid = add_partner(db, "Dr. Refer")
    eid = episode(db, pid)
    score(db, eid, "odi", "intake", INTAKE, {"odi": 40})
    score(db, eid, "odi", "progress", LATER, {"odi": 54})
    [alert] = [a for a in compute_alerts(db, TODAY) if a.kind == "patient_worsening"]
    assert alert.episode_id == eid and alert.partner_id == pid and alert.severity == "high"
    assert alert.message == (
        f"Episode {eid} (A. Lee, PT): ODI 40 at intake ({INTAKE}), 54 on {LATER}: worse by "
        "14 points, at least the MCID of 12 points (30% of the intake score).")
    assert alert.suggested_action == ("For A. Lee, PT: review the plan of care with the "
                                      "patient; tell Dr. Refer, who referred the patient.")
    assert alert.evidence["reason"] == "worse_by_mcid" and alert.evidence["mcid_points"] == 12
    # Worse by the MCID comes before an unscheduled referral; no improvement comes later.
    assert URGENCY[("patient_worsening", "worse_by_mcid")] == alert.urgency
    assert alert.urgency < URGENCY[("referral_unscheduled", None)] < \
        URGENCY[("patient_worsening", "no_improvement")]


def test_no_improvement_after_n_visits(db: Database) -> None:
    pid = add_partner(db, "Dr. Refer")
    flat = episode(db, pid, visits=6)
    score(db, flat, "lefs", "intake", INTAKE, {"lefs": 40})
    score(db, flat, "lefs", "progress", LATER, {"lefs": 40})
    early = episode(db, pid, visits=5)                        # one visit short
    score(db, early, "lefs", "intake", INTAKE, {"lefs": 40})
    score(db, early, "lefs", "progress", LATER, {"lefs": 38})
    better = episode(db, pid, visits=9)                       # a little better: not flagged
    score(db, better, "lefs", "intake", INTAKE, {"lefs": 40})
    score(db, better, "lefs", "progress", LATER, {"lefs": 41})
    mixed = episode(db, pid, visits=9)                        # one of two scales improved
    score(db, mixed, "promis10", "intake", INTAKE, {"gph": 40, "gmh": 40})
    score(db, mixed, "promis10", "progress", LATER, {"gph": 38, "gmh": 42})
    unknown = episode(db, pid, visits=9)                      # no visit count recorded
    db.execute("UPDATE episodes SET visits = NULL WHERE id = ?", [unknown])
    score(db, unknown, "lefs", "intake", INTAKE, {"lefs": 40})
    score(db, unknown, "lefs", "progress", LATER, {"lefs": 40})
    assert found(db) == {flat: "no_improvement"}
    settings.set_value(db, "no_improvement_visits", 5)
    alerts = {a.episode_id: a for a in compute_alerts(db, TODAY) if a.kind == "patient_worsening"}
    assert set(alerts) == {flat, early}
    assert "no improvement on any measure after 5 visits" in alerts[early].message
    assert alerts[early].severity == "medium"
    assert alerts[early].urgency == URGENCY[("patient_worsening", "no_improvement")]


def test_only_open_episodes_with_a_recent_follow_up(db: Database) -> None:
    pid = add_partner(db, "Dr. Refer")
    done = episode(db, pid, status="discharged")
    stale = episode(db, pid)
    edge = episode(db, pid)
    recovered = episode(db, None, clinician=None)
    for eid in (done, stale, edge, recovered):
        score(db, eid, "ndi", "intake", TODAY - timedelta(days=200), {"ndi": 30})
    score(db, done, "ndi", "discharge", LATER, {"ndi": 50})
    score(db, stale, "ndi", "progress", TODAY - timedelta(days=RECENT_DAYS), {"ndi": 50})
    score(db, edge, "ndi", "progress", TODAY - timedelta(days=RECENT_DAYS - 1), {"ndi": 50})
    score(db, recovered, "ndi", "progress", TODAY - timedelta(days=30), {"ndi": 50})
    score(db, recovered, "ndi", "progress", LATER, {"ndi": 25})
    score(db, recovered, "ndi", "follow_up", TODAY + timedelta(days=3), {"ndi": 60})  # future
    assert found(db) == {edge: "worse_by_mcid"}


def test_self_referred_patient_has_no_referrer_to_tell(db: Database) -> None:
    eid = episode(db, None, clinician=None)
    score(db, eid, "nprs", "intake", INTAKE, {"nprs": 4})
    score(db, eid, "nprs", "progress", LATER, {"nprs": 6})
    [alert] = [a for a in compute_alerts(db, TODAY) if a.kind == "patient_worsening"]
    assert alert.partner_id is None
    assert "the treating clinician (none recorded)" in alert.message
    assert "no referrer to tell (self-referred)" in alert.suggested_action
