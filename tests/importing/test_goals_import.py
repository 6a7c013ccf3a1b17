"""Goals by CSV: one row per goal, checked by the same Goal record as the dashboard and
`referrals update --goal`; a goal on file takes the row's target date and status; export then
import changes nothing."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.importing.exporter import export_text
from outcomes.importing.importer import ImportFailed, run_import
from tests.network.helpers import add_partner, add_referral

TODAY = date(2026, 11, 22)


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["episode_id", "goal", "target_date", "status"], *rows])
    return path


def _goals(db: Database) -> list[tuple[str, str, str | None, str]]:
    return db.execute("SELECT episode_id, goal, target_date, status FROM episode_goals"
                      " ORDER BY id").fetchall()


def test_goals_are_added_then_follow_the_file(db: Database, tmp_path: Path) -> None:
    eid = add_referral(db, add_partner(db, "Dr. Goal"), date(2026, 10, 1), status="in_care",
                       first_visit=date(2026, 10, 3))
    first = run_import(db, "goals", _csv(tmp_path / "a.csv", [
        [eid, "Walk 2 km, no pain", "2027-02-01", ""],
        [eid, "Sit 60 minutes", "01/15/2027", "partly met"]]), today=TODAY)
    assert (first.added, first.updated) == (2, 0)
    assert _goals(db) == [(eid, "Walk 2 km, no pain", "2027-02-01", "open"),
                          (eid, "Sit 60 minutes", "2027-01-15", "partly_met")]
    again = run_import(db, "goals", _csv(tmp_path / "b.csv", [
        [eid, "Sit 60 minutes", "2027-01-15", "met"]]), today=TODAY)
    assert (again.added, again.updated, again.unchanged) == (0, 1, 0)
    assert _goals(db)[1][3] == "met"


def test_a_bad_row_names_line_and_column_and_nothing_is_written(db: Database,
                                                                tmp_path: Path) -> None:
    eid = add_referral(db, add_partner(db, "Dr. Goal"), date(2026, 10, 1))
    with pytest.raises(ImportFailed) as failed:
        run_import(db, "goals", _csv(tmp_path / "bad.csv", [
            [eid, "Walk", "2027-02-01", "open"], [eid, "Run", "2027-02-01", "maybe"],
            ["E-NONE", "Sit", "", ""]]), today=TODAY)
    report = failed.value.report
    where = sorted((e.line, e.column) for e in report.errors)
    assert where == [(3, "status"), (4, "episode_id")]
    assert _goals(db) == []


@given(goals=st.lists(st.tuples(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
    .filter(str.strip),
    st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2030, 12, 31))),
    st.sampled_from(["open", "met", "partly_met", "not_met"])), max_size=6,
    unique_by=lambda g: " ".join(g[0].split())))
@settings(max_examples=25, deadline=None)
def test_export_then_import_changes_nothing(tmp_path_factory, goals) -> None:
    from outcomes.store.database import open_db

    path = tmp_path_factory.mktemp("goals") / "g.db"
    db = open_db(path)
    eid = add_referral(db, add_partner(db, "Dr. Round"), date(2026, 10, 1))
    rows = [[eid, g, t.isoformat() if t else "", s] for g, t, s in goals]
    run_import(db, "goals", _csv(path.parent / "in.csv", rows), today=TODAY)
    before = _goals(db)
    out = path.parent / "out.csv"
    out.write_text(export_text(db, "goals", "csv"), encoding="utf-8")
    report = run_import(db, "goals", out, today=TODAY)
    assert report.errors == [] and report.added == report.updated == 0
    assert _goals(db) == before
    db.conn.close()
