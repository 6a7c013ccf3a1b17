"""Migration 0011: the stored time to recovery and age band, filled on upgrade as the current
code computes them, and the age band kept current by its triggers on every write."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.dates import age_band
from outcomes.measures import summary
from outcomes.store.database import open_db, transaction
from outcomes.store.schema import age_band_sql, backfill_age_bands
from tests.conftest import DEMO_TODAY

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "schemas" / "v10.db"


def test_upgrade_from_v10_fills_recovery_and_age_band(tmp_path: Path) -> None:
    path = tmp_path / "v10.db"
    shutil.copy(FIXTURE, path)
    db = open_db(path)
    # E1: ODI 48 at intake on the first visit (2024-02-05), 16 at discharge on 2024-03-20:
    # a 67% fall reaches the 30% MCID on day 44. Born 1960-01-02: 64 on the first visit.
    assert db.execute("SELECT episode_id, scale, recovery_days, recovered FROM episode_outcomes"
                      ).fetchall() == [("E1", "odi", 44, 1)]
    assert db.execute("SELECT id, age_band FROM episodes ORDER BY id").fetchall() == [
        ("E1", "60-69"), ("E2", None)]  # E2: no first visit, no birth date
    rows = db.execute("SELECT * FROM episode_outcomes ORDER BY 1, 2").fetchall()
    with transaction(db):
        summary.refresh(db)
    assert db.execute("SELECT * FROM episode_outcomes ORDER BY 1, 2").fetchall() == rows
    db.close()


def test_the_migration_agrees_with_refresh_on_the_demo(demo_db_path: Path) -> None:
    """Clear the columns, run the migration's backfills, compare with what the code stored."""
    from outcomes.store.schema import _recovery_v11

    db = open_db(demo_db_path)
    recovery = "SELECT episode_id, scale, recovery_days, recovered FROM episode_outcomes ORDER BY 1, 2"
    bands = "SELECT id, age_band FROM episodes ORDER BY id"
    want_recovery = db.execute(recovery).fetchall()
    want_bands = db.execute(bands).fetchall()
    assert sum(r[3] is not None for r in want_recovery) > 100
    assert len({b for _e, b in want_bands}) > 4
    with transaction(db):
        db.execute("UPDATE episode_outcomes SET recovery_days = NULL, recovered = NULL")
        db.execute("DROP TRIGGER age_band_upd")  # else it would put the bands back at once
        db.execute("UPDATE episodes SET age_band = NULL")
        _recovery_v11(db)
        assert backfill_age_bands(db) > 100
    assert db.execute(recovery).fetchall() == want_recovery
    assert db.execute(bands).fetchall() == want_bands
    db.close()


def _band(db: Database, eid: str) -> str | None:
    return db.execute("SELECT age_band FROM episodes WHERE id = ?", [eid]).fetchone()[0]


def test_the_age_band_follows_every_write(db: Database) -> None:
    with transaction(db):
        db.execute("INSERT INTO patients (id, record_number, birth_date, created_at)"
                   " VALUES (1, 'M1', '1960-05-10', 'now'), (2, 'M2', '2000-01-01', 'now')")
        db.execute("INSERT INTO episodes (id, patient_id, referral_date, body_region,"
                   " first_visit_date, created_at, updated_at)"
                   " VALUES ('E', 1, '2030-01-01', 'neck', '2030-05-09', 'now', 'now')")
    assert _band(db, "E") == "60-69"  # 69 the day before the birthday
    db.execute("UPDATE episodes SET first_visit_date = '2030-05-10' WHERE id = 'E'")
    assert _band(db, "E") == "70-79"  # 70 on it
    db.execute("UPDATE patients SET birth_date = '1930-01-01' WHERE id = 1")
    assert _band(db, "E") == "90+"
    db.execute("UPDATE episodes SET patient_id = 2 WHERE id = 'E'")
    assert _band(db, "E") == "30-39"
    db.execute("UPDATE patients SET birth_date = NULL WHERE id = 2")
    assert _band(db, "E") is None
    db.execute("UPDATE patients SET birth_date = '2000-01-01' WHERE id = 2")
    db.execute("UPDATE episodes SET first_visit_date = NULL WHERE id = 'E'")
    assert _band(db, "E") is None
    db.execute("UPDATE episodes SET first_visit_date = '1999-12-31' WHERE id = 'E'")
    assert _band(db, "E") is None  # born after the first visit: unknown
    db.execute("UPDATE episodes SET age_band = '0-17' WHERE id = 'E'")
    assert _band(db, "E") is None  # a hand-written band is put right


@given(birth=st.dates(date(1900, 1, 1), date(2030, 12, 31)),
       visit=st.dates(date(1990, 1, 1), date(2035, 12, 31)))
def test_the_sql_band_is_the_python_band(birth: date, visit: date) -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    got = conn.execute(f"SELECT {age_band_sql('?1', '?2')}",
                       [visit.isoformat(), birth.isoformat()]).fetchone()[0]
    assert got == age_band(birth, visit)


def test_the_sql_band_at_each_edge() -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")

    def band(birth: str, visit: str) -> str | None:
        return conn.execute(f"SELECT {age_band_sql('?1', '?2')}", [visit, birth]).fetchone()[0]

    for age, want in ((17, "0-17"), (18, "18-29"), (29, "18-29"), (30, "30-39"),
                      (89, "80-89"), (90, "90+")):
        assert band(f"{2020 - age}-06-15", "2020-06-15") == want
        assert band(f"{2020 - age}-06-16", "2020-06-15") == age_band(
            date(2020 - age, 6, 16), date(2020, 6, 15))  # a day short of the birthday
    assert band("2020-06-15", "2020-06-15") == "0-17"
    assert band("2020-06-16", "2020-06-15") is None
    assert band("not a date", "2020-06-15") is None


def _import_lines(n: int, born: int = 1930) -> str:
    lines = ["episode_id,patient_id,birth_date,referral_date,body_region,first_visit_date"]
    lines += [f"B{i:04d},MRNB{i:04d},{born + i % 80}-0{i % 9 + 1}-1{i % 9},2026-0{i % 9 + 1}-10,"
              f"knee,2026-0{i % 9 + 1}-1{i % 9}" for i in range(n)]
    return "\n".join(lines) + "\n"


def _want_bands(db: Database) -> list[tuple[str, str | None]]:
    out = []
    for eid, birth, first in db.execute(
            "SELECT e.id, p.birth_date, e.first_visit_date FROM episodes e"
            " JOIN patients p ON p.id = e.patient_id WHERE e.id LIKE 'B%' ORDER BY e.id"):
        out.append((eid, age_band(date.fromisoformat(birth), date.fromisoformat(first))))
    return out


@pytest.mark.parametrize("engine", ["rows", "bulk"])
@pytest.mark.parametrize("large", [False, True], ids=["row by row", "triggers dropped"])
def test_both_import_engines_keep_the_stored_columns_current(
        demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str,
        large: bool) -> None:
    from outcomes.importing import importer
    from outcomes.store.schema import AGE_BAND_TRIGGER_NAMES

    if large:  # the path that drops the triggers and backfills once
        monkeypatch.setattr(importer, "BULK_ROWS", 10)
    path = tmp_path / "episodes.csv"
    path.write_text(_import_lines(600))
    assert importer.is_bulk(demo_db, 600) is large
    importer.run_import(demo_db, "referrals", path, today=DEMO_TODAY, engine=engine)
    bands = demo_db.execute("SELECT id, age_band FROM episodes WHERE id LIKE 'B%'"
                            " ORDER BY id").fetchall()
    assert len(bands) == 600 and bands == _want_bands(demo_db)
    # A second import changing birth dates (the patients' rows only) moves the bands too.
    path.write_text(_import_lines(600, born=1935))
    importer.run_import(demo_db, "referrals", path, today=DEMO_TODAY, engine=engine)
    moved = demo_db.execute("SELECT id, age_band FROM episodes WHERE id LIKE 'B%'"
                            " ORDER BY id").fetchall()
    assert moved == _want_bands(demo_db) and moved != bands
    triggers = {r[0] for r in demo_db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(AGE_BAND_TRIGGER_NAMES) <= triggers
    # Responses imported: the recovery columns are filled as a refresh would fill them.
    rows = ["episode_id,instrument,timepoint,date,answers,score"]
    rows += [f"B{i:04d},lefs,intake,2026-0{i % 9 + 1}-1{i % 9},,{20 + i % 30}" for i in range(600)]
    rows += [f"B{i:04d},lefs,progress,2026-0{i % 9 + 1}-2{i % 9},,{25 + i % 40}"
             for i in range(600)]
    path.write_text("\n".join(rows) + "\n")
    importer.run_import(demo_db, "responses", path, today=DEMO_TODAY, engine=engine)
    stored = ("SELECT episode_id, scale, recovery_days, recovered FROM episode_outcomes"
              " WHERE episode_id LIKE 'B%' ORDER BY 1, 2")
    got = demo_db.execute(stored).fetchall()
    assert {r[2] for r in got} == {10} and {r[3] for r in got} == {0, 1}
    with transaction(demo_db):
        summary.refresh(demo_db, [r[0] for r in got])
    assert demo_db.execute(stored).fetchall() == got


@given(birth=st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2030, 12, 31)),
                       st.just("1970-13-01")),
       visit=st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2035, 12, 31))))
def test_the_backfill_gives_the_triggers_band(birth: date | str | None,
                                              visit: date | None) -> None:
    import sqlite3

    from outcomes.store.schema import age_band_triggers

    db = Database(sqlite3.connect(":memory:"))
    db.execute("CREATE TABLE patients (id INTEGER PRIMARY KEY, birth_date TEXT)")
    db.execute("CREATE TABLE episodes (id TEXT PRIMARY KEY, patient_id INTEGER,"
               " first_visit_date TEXT, age_band TEXT)")
    for statement in age_band_triggers():
        db.execute(statement)
    db.execute("INSERT INTO patients VALUES (1, ?)", [str(birth) if birth else None])
    db.execute("INSERT INTO episodes (id, patient_id, first_visit_date) VALUES ('E', 1, ?)",
               [visit.isoformat() if visit else None])
    by_trigger = _band(db, "E")
    db.execute("DROP TRIGGER age_band_upd")
    db.execute("UPDATE episodes SET age_band = 'x'")
    backfill_age_bands(db)
    assert _band(db, "E") == by_trigger
    if isinstance(birth, date) and visit is not None:
        assert by_trigger == age_band(birth, visit)
