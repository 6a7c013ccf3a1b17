"""The condition columns of a referrals file (procedure, surgical, primary measure)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from outcomes.importing.importer import ImportFailed, run_import
from outcomes.importing.kinds import ReferralsKind
from outcomes.store.database import open_db
from tests.conftest import DEMO_TODAY

HEADER = "episode_id,patient_id,referral_date,body_region,diagnosis,procedure,surgical," \
         "primary_measure\n"


@pytest.mark.parametrize("engine", ["rows", "bulk"])
def test_condition_columns_are_stored_normalised(db_path: Path, tmp_path: Path,
                                                 engine: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(HEADER +
                    "C1,M1,2026-10-01,knee,Z96.651,TKR,,\n"           # synonym; yes implied
                    "C2,M2,2026-10-02,low back,M54.50,,no,\n"          # non-surgical
                    "C3,M3,2026-10-03,knee,M17.11,,,LEFS\n"            # override, any case
                    "C4,M4,2026-10-04,shoulder,M75.101,rcr,Yes,quickdash\n")
    db = open_db(db_path)
    report = run_import(db, "referrals", path, today=DEMO_TODAY, engine=engine)
    assert report.added == 4
    rows = db.execute("SELECT id, procedure, surgical, instrument FROM episodes"
                      " ORDER BY id").fetchall()
    assert rows == [("C1", "Total knee arthroplasty", None, None),
                    ("C2", None, 0, None),
                    ("C3", None, None, "lefs"),
                    ("C4", "Rotator cuff repair", 1, "quickdash")]


@pytest.mark.parametrize(("cells", "column", "words"), [
    ("knee thing,,", "procedure", "'knee thing' is not a known procedure"),
    (",maybe,", "surgical", "surgical"),
    ("TKA,no,", None, "is surgery, but surgical is no"),   # a rule across two cells
    (",,nps", "primary_measure", "primary measure 'nps' is not an outcome instrument"),
])
@pytest.mark.parametrize("engine", ["rows", "bulk"])
def test_bad_condition_cells_name_line_and_column(db_path: Path, tmp_path: Path, engine: str,
                                                  cells: str, column: str | None,
                                                  words: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "C1,M1,2026-10-01,knee,M17.11," + cells + "\n")
    db = open_db(db_path)
    with pytest.raises(ImportFailed) as caught:
        run_import(db, "referrals", path, today=DEMO_TODAY, engine=engine)
    [error] = caught.value.report.errors
    assert error.line == 2
    assert words in error.message
    assert error.column == column
    assert db.execute("SELECT count(*) FROM episodes").fetchone()[0] == 0


def test_fast_path_takes_clean_condition_cells(demo_template: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk engine must not fall back to the row path for good condition cells."""
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "C1,M1,2026-10-01,knee,Z96.651,TKA,yes,koos_jr\n"
                    "C2,M2,2026-10-02,hip,M16.11,,no,\n")
    calls = []
    monkeypatch.setattr(ReferralsKind, "prepare",
                        lambda self, values, ctx: calls.append(values))
    target = tmp_path / "d.db"
    shutil.copy(demo_template, target)
    db = open_db(target)
    report = run_import(db, "referrals", path, today=DEMO_TODAY, engine="bulk")
    assert report.rows == 2 and calls == []
    assert db.execute("SELECT procedure, surgical FROM episodes WHERE id = 'C1'").fetchone() \
        == ("Total knee arthroplasty", 1)
