"""Changing a definition never silently changes stored scores; rescore reports, --apply stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlite_utils import Database

from outcomes.measures import catalog
from outcomes.measures.instruments import shipped_surveys_dir
from outcomes.measures.rescore import rescore
from tests.cli_helpers import run_cli


def override_odi(config: Path) -> None:
    """A clinic's own ODI file that refuses any missing section (a changed definition)."""
    text = (shipped_surveys_dir() / "odi.toml").read_text()
    assert "max_missing = 1" in text
    text = text.replace("max_missing = 1", "max_missing = 0", 1)
    surveys = config / "surveys"
    surveys.mkdir(parents=True, exist_ok=True)
    (surveys / "odi.toml").write_text(text.replace('version = "', 'version = "clinic-', 1))
    catalog.instruments.cache_clear()


def test_rescore_reports_then_applies(demo_db: Database, isolated_dirs: Path,
                                      capsys: pytest.CaptureFixture[str],
                                      demo_db_path: Path) -> None:
    before = dict(demo_db.execute("SELECT id, scores FROM responses WHERE instrument = 'odi'"))
    one_missing = {rid for rid, answers in demo_db.execute(
        "SELECT id, answers FROM responses WHERE instrument = 'odi'")
        if json.loads(answers).count(None) == 1}
    assert one_missing, "the demo has ODI responses with one section missing"
    assert rescore(demo_db) == []  # nothing changed yet
    override_odi(isolated_dirs / "config" / "outcomes")
    changes = rescore(demo_db)
    assert len(changes) == len(before)  # every ODI response: the version changed
    assert {c.response_id for c in changes if c.old != c.new} == one_missing
    assert dict(demo_db.execute("SELECT id, scores FROM responses WHERE instrument = 'odi'")) \
        == before  # reported, not stored
    first = next(c for c in changes if c.response_id in one_missing)
    assert first.old["odi"] is not None and first.new == {"odi": None}
    result = run_cli(capsys, "--db", str(demo_db_path), "responses", "rescore", "--apply")
    assert result.code == 0 and f"{len(before)} stored responses changed" in result.out
    stored = json.loads(demo_db.execute("SELECT scores FROM responses WHERE id = ?",
                                        [first.response_id]).fetchone()[0])
    assert stored == first.new
    version = demo_db.execute("SELECT instrument_version FROM responses WHERE id = ?",
                              [first.response_id]).fetchone()[0]
    assert version.startswith("clinic-")
    scorable = demo_db.execute("SELECT scorable, reason FROM responses WHERE id = ?",
                               [first.response_id]).fetchone()
    assert scorable[0] == 0 and scorable[1]
    assert rescore(demo_db) == []
