"""Migration 0012: the funnel's roll-ups are filled on upgrade and agree with the raw rows."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from outcomes.periods import Period, split_months, whole_days
from outcomes.reports.rollups import funnels
from outcomes.store.database import open_db
from outcomes.store.schema import ROLLUP_BACKFILL

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "schemas" / "v11.db"


def _rows(db, table: str) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()


def test_upgrade_fills_the_funnel_rollups_from_the_episodes(tmp_path: Path) -> None:
    path = tmp_path / "v11.db"
    shutil.copy(FIXTURE, path)
    db = open_db(path)
    try:
        upgraded = {t: _rows(db, t) for t in ("roll_funnel", "roll_unscheduled")}
        assert upgraded["roll_funnel"], "the fixture's episodes must reach the roll-up"
        db.execute("BEGIN")
        for statement in ROLLUP_BACKFILL:
            db.execute(statement)
        assert {t: _rows(db, t) for t in upgraded} == upgraded
        db.execute("ROLLBACK")
        # A later write goes through the new triggers, and whole months read the same as the
        # raw rows.
        db.execute("UPDATE episodes SET status = 'not_scheduled', status_reason = ' moved '")
        period = Period(date(2020, 1, 1), date(2027, 12, 31))
        found = funnels(db, split_months(period.start, period.end))
        assert found == funnels(db, whole_days(period))
        assert sum(f.not_scheduled.get("moved", 0) for f in found.values()) > 0
    finally:
        db.close()
