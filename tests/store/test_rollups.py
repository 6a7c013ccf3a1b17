"""The monthly rollups behind the scorecard stay exact through every kind of write."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.reports.scorecard import scorecard
from outcomes.store.schema import ROLLUP_BACKFILL
from tests.conftest import DEMO_TODAY

# Each rollup table, and where its summed columns start (rows whose sums are all 0 are empty).
ROLL_TABLES = {"roll_episodes": 2, "roll_visits": 3, "roll_days": 3, "roll_outcomes": 5,
               "roll_nps": 2, "roll_funnel": 2, "roll_unscheduled": 3}


def close(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def rollup_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table, first_sum in ROLL_TABLES.items():
        rows = []
        for row in db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3"):
            if any(abs(v) > 1e-9 for v in row[first_sum:]):
                rows.append(tuple(round(v, 6) if isinstance(v, float) else v for v in row))
        out[table] = rows
    return out


periods = st.tuples(
    st.dates(min_value=DEMO_TODAY - timedelta(days=800), max_value=DEMO_TODAY),
    st.integers(min_value=0, max_value=500),
).map(lambda t: (t[0], min(t[0] + timedelta(days=t[1]), DEMO_TODAY)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(period=periods)
def test_scorecard_from_rollups_equals_raw(demo_db: Database, period: tuple[date, date]) -> None:
    fast = scorecard(demo_db, *period)
    slow = scorecard(demo_db, *period, rollups=False)
    assert close(fast.as_dict(), slow.as_dict())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(st.sampled_from(["partner", "date", "status", "visits", "first",
                                               "nps_del", "nps_add", "outcome_del", "reason",
                                               "scheduled", "dc_reason", "delete"]),
                              st.integers(0, 10_000), st.integers(0, 10_000)),
                    min_size=1, max_size=8))
def test_rollups_stay_exact_under_edits(demo_db: Database, ops: list[tuple[str, int, int]]
                                        ) -> None:
    episodes = [r[0] for r in demo_db.execute("SELECT id FROM episodes ORDER BY id")]
    partners = [r[0] for r in demo_db.execute("SELECT id FROM partners ORDER BY id")]
    demo_db.execute("BEGIN")
    try:
        for op, a, b in ops:
            episode = episodes[a % len(episodes)]
            if op == "partner":
                partner = None if b % 7 == 0 else partners[b % len(partners)]
                demo_db.execute("UPDATE episodes SET partner_id = ? WHERE id = ?",
                                [partner, episode])
            elif op == "date":
                when = (DEMO_TODAY - timedelta(days=b % 700 + 60)).isoformat()
                demo_db.execute("UPDATE episodes SET referral_date = ?, first_visit_date = NULL"
                                " WHERE id = ?", [when, episode])
            elif op == "status":
                demo_db.execute("UPDATE episodes SET status = ? WHERE id = ?",
                                [["discharged", "in_care", "cancelled", "not_scheduled",
                                  "received", "scheduled"][b % 6], episode])
            elif op == "reason":  # the funnel's reasons: blank and padded ones count as one
                demo_db.execute("UPDATE episodes SET status_reason = ? WHERE id = ?",
                                [[None, "", "  no answer ", "no answer", "insurance"][b % 5],
                                 episode])
            elif op == "scheduled":
                demo_db.execute("UPDATE episodes SET scheduled_date = ? WHERE id = ?",
                                [None if b % 2 else "2026-03-03", episode])
            elif op == "dc_reason":
                demo_db.execute("UPDATE episodes SET discharge_reason = ? WHERE id = ?",
                                [["self_discharged", "goals_met", None][b % 3], episode])
            elif op == "delete":
                for table in ("responses", "episode_outcomes", "nps_responses", "episode_goals",
                              "outbound_referrals", "communications"):
                    demo_db.execute(f"DELETE FROM {table} WHERE episode_id = ?", [episode])
                demo_db.execute("DELETE FROM episodes WHERE id = ?", [episode])
            elif op == "visits":
                demo_db.execute("UPDATE episodes SET visits = ? WHERE id = ?",
                                [None if b % 5 == 0 else b % 20, episode])
            elif op == "first":
                demo_db.execute("UPDATE episodes SET first_visit_date = referral_date"
                                " WHERE id = ?", [episode])
            elif op == "nps_del":
                demo_db.execute("DELETE FROM nps_responses WHERE id = (SELECT id FROM"
                                " nps_responses ORDER BY id LIMIT 1 OFFSET ?)", [b % 500])
            elif op == "nps_add":
                demo_db.execute("INSERT OR IGNORE INTO nps_responses (episode_id, date, score, comment,"
                                " created_at) VALUES (?, ?, ?, ?, 'x')",
                                [episode, "2026-03-03", b % 11, f"op{a}-{b}"])
            elif op == "outcome_del":
                demo_db.execute("DELETE FROM episode_outcomes WHERE episode_id = ?", [episode])
        maintained = rollup_rows(demo_db)
        for statement in ROLLUP_BACKFILL:
            demo_db.execute(statement)
        assert maintained == rollup_rows(demo_db)
    finally:
        demo_db.execute("ROLLBACK")


def test_bulk_import_rebuilds_rollups_and_restores_triggers(
        demo_db: Database, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from outcomes.importing import importer
    from outcomes.store.schema import TRIGGER_NAMES

    monkeypatch.setattr(importer, "BULK_ROWS", 10)
    npi = demo_db.execute("SELECT npi FROM partners WHERE npi IS NOT NULL LIMIT 1").fetchone()[0]
    lines = ["episode_id,patient_id,partner_npi,referral_date,body_region,first_visit_date,"
             "discharge_date,visits"]
    lines += [f"B{i:04d},MRNB{i:04d},{npi},2026-0{i % 9 + 1}-1{i % 9},knee,2026-0{i % 9 + 1}-2{i % 9},"
              f"{'' if i % 3 else f'2026-0{i % 9 + 1}-28'},{i % 12}" for i in range(600)]
    path = tmp_path / "bulk.csv"
    path.write_text("\n".join(lines) + "\n")
    assert importer._is_bulk(demo_db, 600)
    importer.run_import(demo_db, "referrals", path, today=DEMO_TODAY)
    triggers = {r[0] for r in demo_db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(TRIGGER_NAMES) <= triggers
    rebuilt = rollup_rows(demo_db)
    demo_db.execute("BEGIN")
    for statement in ROLLUP_BACKFILL:
        demo_db.execute(statement)
    assert rollup_rows(demo_db) == rebuilt
    demo_db.execute("ROLLBACK")
    # The restored triggers keep the rollups exact for the next ordinary write.
    demo_db.execute("UPDATE episodes SET partner_id = NULL WHERE id = 'B0001'")
    maintained = rollup_rows(demo_db)
    demo_db.execute("BEGIN")
    for statement in ROLLUP_BACKFILL:
        demo_db.execute(statement)
    assert rollup_rows(demo_db) == maintained
    demo_db.execute("ROLLBACK")


def test_failed_bulk_import_leaves_triggers_and_rollups(demo_db: Database, tmp_path,
                                                        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from outcomes.importing import importer
    from outcomes.importing import kinds as import_kinds
    from outcomes.store.schema import TRIGGER_NAMES

    monkeypatch.setattr(importer, "BULK_ROWS", 10)
    before = rollup_rows(demo_db)

    def broken_write(self, db, prepared):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(import_kinds.ReferralsKind, "write", broken_write)
    npi = demo_db.execute("SELECT npi FROM partners WHERE npi IS NOT NULL LIMIT 1").fetchone()[0]
    path = tmp_path / "bulk.csv"
    path.write_text("episode_id,patient_id,partner_npi,referral_date,body_region\n"
                    + "".join(f"F{i},MRNF{i},{npi},2026-03-03,neck\n" for i in range(600)))
    with pytest.raises(RuntimeError):
        importer.run_import(demo_db, "referrals", path, today=DEMO_TODAY)
    triggers = {r[0] for r in demo_db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(TRIGGER_NAMES) <= triggers
    assert rollup_rows(demo_db) == before


def test_a_scoped_bulk_load_rebuilds_what_it_feeds_and_keeps_the_rest_exact(
        demo_db: Database) -> None:
    """``rollups_rebuilt_after(writes=...)`` rebuilds only the roll-ups of that table; writes
    to any other table inside it (which a scoped load should not make, but might) are kept
    exact by the triggers left in place, and every trigger is there afterwards."""
    from outcomes.store.schema import (
        AGE_BAND_TRIGGER_NAMES,
        TRIGGER_NAMES,
        rollups_rebuilt_after,
    )

    episode = demo_db.execute("SELECT id FROM episodes WHERE partner_id IS NOT NULL LIMIT 1"
                              ).fetchone()[0]
    for day, writes in enumerate(("nps_responses", "responses", "touchpoints", "partners", None),
                                 start=10):
        demo_db.execute("BEGIN")
        with rollups_rebuilt_after(demo_db, writes=writes):
            demo_db.execute(
                "INSERT INTO nps_responses (episode_id, date, score, created_at)"
                " VALUES (?, ?, ?, ?)",
                [episode, f"2026-03-{day}", 3, "2026-03-04T10:00:00"])
            demo_db.execute("UPDATE episode_outcomes SET final_score = final_score + 1"
                            " WHERE episode_id IN (SELECT episode_id FROM episode_outcomes"
                            " WHERE final_score IS NOT NULL LIMIT 5)")
            demo_db.execute("UPDATE episodes SET visits = coalesce(visits, 0) + 1,"
                            " status = 'discharged' WHERE id = ?", [episode])
        demo_db.execute("COMMIT")
        triggers = {r[0] for r in demo_db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert set(TRIGGER_NAMES) | set(AGE_BAND_TRIGGER_NAMES) <= triggers, writes
        kept = rollup_rows(demo_db)
        demo_db.execute("BEGIN")
        for statement in ROLLUP_BACKFILL:
            demo_db.execute(statement)
        assert rollup_rows(demo_db) == kept, writes
        demo_db.execute("ROLLBACK")


def test_a_bulk_nps_import_adds_its_answers_to_the_rollup_exactly(
        demo_db: Database, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An NPS load only appends: its roll-up gains the new answers' sums instead of being
    summed again, and ends where a full rebuild from the raw rows ends."""
    from outcomes.importing import importer

    monkeypatch.setattr(importer, "BULK_ROWS", 10)
    episodes = [r[0] for r in demo_db.execute("SELECT id FROM episodes ORDER BY id LIMIT 400")]
    lines = ["episode_id,date,score,comment"]
    lines += [f"{episodes[i % len(episodes)]},2026-0{i % 9 + 1}-1{i % 9},{i % 11},bulk {i}"
              for i in range(600)]
    lines += [",2026-02-03,9,clinic-wide"]  # an answer without an episode: partner key 0
    path = tmp_path / "nps.csv"
    path.write_text("\n".join(lines) + "\n")
    before = demo_db.execute("SELECT count(*) FROM nps_responses").fetchone()[0]
    assert importer._is_bulk(demo_db, len(lines) - 1)
    importer.run_import(demo_db, "nps", path, today=DEMO_TODAY)
    assert demo_db.execute("SELECT count(*) FROM nps_responses").fetchone()[0] == before + 601
    added = rollup_rows(demo_db)
    demo_db.execute("BEGIN")
    for statement in ROLLUP_BACKFILL:
        demo_db.execute(statement)
    assert rollup_rows(demo_db) == added
    demo_db.execute("ROLLBACK")
