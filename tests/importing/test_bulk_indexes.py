"""A bulk responses load drops the outcome summary's secondary indexes and builds them after it
(``schema.rollups_rebuilt_after``): the stored summary and the indexes must come out as a
load without that step leaves them, and a failed load must leave the indexes in place."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from outcomes.importing import importer
from outcomes.importing.importer import ImportFailed, run_import
from outcomes.store.database import open_db
from tests.conftest import DEMO_TODAY

INDEXES = ("SELECT name, sql FROM sqlite_master WHERE type = 'index'"
           " AND tbl_name = 'episode_outcomes' ORDER BY name")


def _responses_file(db_path: Path, path: Path, *, broken: bool = False) -> Path:
    db = open_db(db_path)
    episodes = [r[0] for r in db.execute("SELECT id FROM episodes ORDER BY id LIMIT 6")]
    db.close()
    lines = ["episode_id,instrument,timepoint,date,answers,score"]
    for n, episode in enumerate(episodes):
        lines.append(f"{episode},odi,intake,2026-02-0{n + 1},3;3;3;3;3;3;3;3;3;3,")
        lines.append(f"{episode},odi,discharge,2026-04-0{n + 1},1;1;1;1;1;1;1;0;0;0,")
        lines.append(f"{episode},nprs,discharge,2026-04-0{n + 1},,2")
    if broken:
        lines.append(f"{episodes[0]},odi,intake,not a date,3;3;3;3;3;3;3;3;3;3,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ["bulk", "rows"])
def test_a_bulk_load_rebuilds_the_summary_indexes_and_stores_the_same_summary(
        demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        engine: str) -> None:
    source = _responses_file(demo_template, tmp_path / "r.csv")
    results: dict[bool, Any] = {}
    for bulk_load in (False, True):
        target = tmp_path / f"{bulk_load}.db"
        shutil.copy(demo_template, target)
        monkeypatch.setattr(importer, "is_bulk", lambda db, rows, b=bulk_load: b)
        db = open_db(target)
        before = db.execute(INDEXES).fetchall()
        report = run_import(db, "responses", source, today=DEMO_TODAY, engine=engine)
        assert report.written and report.added == 18
        assert db.execute(INDEXES).fetchall() == before
        assert len(before) >= 4  # the scorecards' indexes are there to be rebuilt
        # The roll-up rebuilt in one pass adds its sums in another order than the triggers
        # did: the same to 9 places.
        results[bulk_load] = (db.execute("SELECT * FROM episode_outcomes ORDER BY 1, 2")
                              .fetchall(),
                              [tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                               for row in db.execute("SELECT * FROM roll_outcomes"
                                                     " ORDER BY 1, 2, 3, 4, 5")])
        db.execute("PRAGMA integrity_check").fetchall()
        db.close()
    assert results[True] == results[False]


def test_a_failed_bulk_load_leaves_the_summary_indexes(demo_template: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    source = _responses_file(demo_template, tmp_path / "r.csv", broken=True)
    target = tmp_path / "t.db"
    shutil.copy(demo_template, target)
    monkeypatch.setattr(importer, "is_bulk", lambda db, rows: True)
    db = open_db(target)
    before = db.execute(INDEXES).fetchall()
    stored = db.execute("SELECT count(*) FROM episode_outcomes").fetchone()
    with pytest.raises(ImportFailed):
        run_import(db, "responses", source, today=DEMO_TODAY)
    assert db.execute(INDEXES).fetchall() == before
    assert db.execute("SELECT count(*) FROM episode_outcomes").fetchone() == stored
    db.close()
