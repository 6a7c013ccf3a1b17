"""Condition fields entered from the command line and through the core: procedure (with its
synonyms), surgical status and the primary measure override; the summary follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from outcomes.errors import ValidationError
from outcomes.measures import catalog, responses
from outcomes.network.referrals import record_referral, update_referral
from outcomes.store.database import open_db
from tests.cli_helpers import run_cli


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(*args: str):  # type: ignore[no-untyped-def]
        return run_cli(capsys, "--db", str(db_path), *args)

    return run


def test_cli_add_and_update_condition(cli, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("referrals", "add", "E1", "--patient", "M1", "--date", "2026-10-01",
            "--region", "knee", "--dx", "Z96.651", "--procedure", "TKR")
    assert r.code == 0, r.err
    r = cli("referrals", "add", "E2", "--patient", "M2", "--date", "2026-10-01",
            "--region", "knee", "--procedure", "knee thing")
    assert r.code == 1
    assert "'knee thing' is not a known procedure" in r.err and "--procedure" in r.err
    r = cli("referrals", "add", "E3", "--patient", "M3", "--date", "2026-10-01",
            "--region", "knee", "--measure", "LEFS", "--surgical", "no")
    assert r.code == 0, r.err
    r = cli("referrals", "update", "E3", "--measure", "nps")
    assert r.code == 1 and "not an outcome instrument" in r.err and "--measure" in r.err
    r = cli("referrals", "update", "E3", "--procedure", "aclr", "--surgical", "yes")
    assert r.code == 0, r.err
    db = open_db(db_path)
    assert db.execute("SELECT id, procedure, surgical, instrument FROM episodes ORDER BY id"
                      ).fetchall() == [("E1", "Total knee arthroplasty", None, None),
                                       ("E3", "ACL reconstruction", 1, "lefs")]


def _answer(db: Database, episode: str, instrument: str, timepoint: str, when: str,
            answers: list[int | None]) -> None:
    from datetime import date

    responses.save_response(db, episode, catalog.instruments()[instrument].id, timepoint,
                            answers, date.fromisoformat(when))


def _summary(db: Database, episode: str) -> list[tuple[str, str, str | None, int]]:
    return db.execute(
        "SELECT scale, condition_group, procedure, is_primary FROM episode_outcomes"
        " WHERE episode_id = ? ORDER BY scale", [episode]).fetchall()


def test_summary_carries_group_procedure_and_one_primary_row(db: Database) -> None:
    record_referral(db, {"id": "K1", "patient_record_number": "M1",
                         "referral_date": "2026-09-01", "body_region": "knee",
                         "diagnosis": "M17.11"})
    _answer(db, "K1", "lefs", "intake", "2026-09-03", [2] * 20)
    _answer(db, "K1", "nprs", "intake", "2026-09-03", [6])
    # KOOS JR is the knee's first choice, but was not given at intake: LEFS is primary.
    assert _summary(db, "K1") == [("lefs", "Knee osteoarthritis", None, 1),
                                  ("nprs", "Knee osteoarthritis", None, 0)]
    # The override wins; a new diagnosis and a procedure follow into the summary.
    update_referral(db, "K1", {"instrument": "nprs", "diagnosis": "Z96.651",
                               "procedure": "total knee"})
    assert _summary(db, "K1") == [("lefs", "After knee replacement",
                                   "Total knee arthroplasty", 0),
                                  ("nprs", "After knee replacement",
                                   "Total knee arthroplasty", 1)]
    assert db.execute("SELECT DISTINCT surgical FROM episode_outcomes").fetchall() == [(1,)]


def test_record_referral_refuses_a_contradiction(db: Database) -> None:
    with pytest.raises(ValidationError, match="is surgery, but surgical is no"):
        record_referral(db, {"id": "K2", "patient_record_number": "M2",
                             "referral_date": "2026-09-01", "body_region": "knee",
                             "procedure": "TKA", "surgical": False})
    assert db.execute("SELECT count(*) FROM episodes").fetchone()[0] == 0


def test_episode_conditions_agrees_with_the_summary(demo_db: Database) -> None:
    from outcomes.measures.summary import episode_conditions

    found = episode_conditions(demo_db)
    assert len(found) == demo_db.execute("SELECT count(*) FROM episodes").fetchone()[0]
    rows = demo_db.execute(
        "SELECT episode_id, scale, condition_group, procedure, surgical FROM episode_outcomes"
        " WHERE is_primary = 1").fetchall()
    assert rows
    for eid, scale, group, procedure, surgical in rows:
        one = found[eid]
        assert (one.primary_scale, one.condition_group, one.procedure) == (scale, group,
                                                                           procedure)
        assert one.surgical == (None if surgical is None else bool(surgical))
    surgical_ones = [c for c in found.values() if c.procedure]
    assert surgical_ones and all(c.surgical for c in surgical_ones)
    assert {c.primary_instrument for c in found.values()} >= {"odi", "ndi", "koos_jr"}
