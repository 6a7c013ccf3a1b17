"""Migration 0008 classifies the summary rows already on file, as summary.refresh would."""

from __future__ import annotations

import shutil
from pathlib import Path

from outcomes.measures import summary
from outcomes.store.database import open_db, transaction

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "schemas" / "v7.db"


def test_upgrade_from_v7_fills_the_condition_columns(tmp_path: Path) -> None:
    path = tmp_path / "v7.db"
    shutil.copy(FIXTURE, path)
    db = open_db(path)
    rows = db.execute("SELECT episode_id, scale, condition_group, procedure, is_primary"
                      " FROM episode_outcomes ORDER BY 1, 2").fetchall()
    # E1: low back, M54.50, its own instrument the ODI: one primary row, grouped.
    assert rows == [("E1", "odi", "Low back pain", None, 1)]
    assert db.execute("SELECT procedure, surgical FROM episodes WHERE id = 'E1'").fetchone() \
        == (None, None)
    # The migration's result is what a refresh by the current code gives.
    with transaction(db):
        summary.refresh(db)
    assert db.execute("SELECT episode_id, scale, condition_group, procedure, is_primary"
                      " FROM episode_outcomes ORDER BY 1, 2").fetchall() == rows
    db.close()


def test_the_migration_agrees_with_refresh_on_the_demo(demo_db_path: Path) -> None:
    """Clear the columns, run the migration's classifier, compare with the refresh's rows."""
    from outcomes.store.schema import _classify_v8

    db = open_db(demo_db_path)
    want = db.execute("SELECT episode_id, scale, condition_group, is_primary"
                      " FROM episode_outcomes ORDER BY 1, 2").fetchall()
    with transaction(db):
        db.execute("UPDATE episode_outcomes SET condition_group = NULL, is_primary = 0")
        _classify_v8(db)
    assert db.execute("SELECT episode_id, scale, condition_group, is_primary"
                      " FROM episode_outcomes ORDER BY 1, 2").fetchall() == want
    db.close()
