"""The clinical content of an episode in the referrals CSV: the same rules as update_clinical,
errors naming file, line and column, and export -> import round trips exactly."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.errors import ValidationError
from outcomes.importing.exporter import export_text
from outcomes.importing.importer import ImportFailed, run_import
from outcomes.importing.kinds import CLINICAL_EXTRAS, KINDS
from outcomes.network.clinical import CLINICAL_COLUMNS, update_clinical
from outcomes.store.database import open_db
from tests.conftest import DEMO_TODAY

HEAD = "episode_id,patient_id,referral_date,body_region,first_visit_date"
BASE = "E1,MRN1,2026-01-05,lumbar,2026-01-08"

FULL = {
    "onset_date": "12/20/2025", "chief_complaint": "Low back pain, worse sitting",
    "history": "Two prior episodes (2019, 2022)", "findings": "Flexion 40% limited; SLR neg",
    "diagnosis": "m5450", "treatment": "Manual therapy, McKenzie extension",
    "plan": "Restore sitting tolerance", "plan_frequency": "2x/week",
    "plan_duration": "6 weeks", "plan_interventions": "Manual therapy; exercise; education",
    "referral_question": "Is imaging needed if no better in 4 weeks?",
    "precautions": "Osteopenia: no high-velocity thrust", "physician_follow_up": "2027-01-15",
    "poc_sent_date": "2026-01-09", "poc_certified_date": "1/20/2026",
    "poc_certified_by": "Order on file",
}
"""One value per clinical column, several in a form the rules normalise."""
STORED = {
    "onset_date": "2025-12-20", "diagnosis": "M54.50", "poc_certified_date": "2026-01-20",
    "poc_certified_by": "order_on_file",
}
"""What the normalised ones are stored as (the rest as typed)."""


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def clinical_row(db: Database, episode_id: str = "E1") -> dict[str, Any]:
    cursor = db.execute(f"SELECT {', '.join(CLINICAL_COLUMNS)} FROM episodes WHERE id = ?",
                        [episode_id])
    return dict(zip(CLINICAL_COLUMNS, cursor.fetchone(), strict=True))


def test_every_clinical_field_is_a_referral_column() -> None:
    """A field added to ClinicalContent without an import column fails here."""
    names = {c.name for c in KINDS["referrals"].columns}
    assert set(CLINICAL_COLUMNS) <= names


@pytest.mark.parametrize("engine", ["rows", "bulk"])
def test_clinical_columns_are_stored_normalised(db: Database, tmp_path: Path,
                                                engine: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(csv_text([*HEAD.split(","), *FULL], [[*BASE.split(","), *FULL.values()]]))
    report = run_import(db, "referrals", path, today=DEMO_TODAY, engine=engine)
    assert report.written and report.added == 1
    assert clinical_row(db) == {**FULL, **STORED}


def test_import_stores_what_update_clinical_stores(db: Database, tmp_path: Path) -> None:
    """One rule set: the same values through the CSV and through the core call."""
    path = tmp_path / "r.csv"
    path.write_text(csv_text([*HEAD.split(","), *FULL], [
        [*BASE.split(","), *FULL.values()],
        ["E2", "MRN2", "2026-01-05", "lumbar", "2026-01-08", *[""] * len(FULL)]]))
    run_import(db, "referrals", path, today=DEMO_TODAY)
    update_clinical(db, "E2", FULL, today=DEMO_TODAY)
    assert clinical_row(db, "E1") == clinical_row(db, "E2")


def test_a_blank_cell_leaves_what_is_on_file(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(csv_text([*HEAD.split(","), *FULL], [[*BASE.split(","), *FULL.values()]]))
    run_import(db, "referrals", path, today=DEMO_TODAY)
    again = tmp_path / "again.csv"
    again.write_text(csv_text([*HEAD.split(","), "history", "plan_duration"],
                              [[*BASE.split(","), "", "8 weeks"]]))
    report = run_import(db, "referrals", again, today=DEMO_TODAY)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
    assert clinical_row(db) == {**FULL, **STORED, "plan_duration": "8 weeks"}
    report = run_import(db, "referrals", again, today=DEMO_TODAY)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)


BAD = [
    # (column, cell, words in the message): one per rule, each the rule update_clinical applies
    ("diagnosis", "54.50", "not an ICD-10-CM code"),
    ("onset_date", "1899-12-31", "onset_date"),
    ("onset_date", "2026-11-23", "onset_date"),  # the day after DEMO_TODAY
    ("history", "h" * 5001, "the limit is 5,000"),
    ("plan_interventions", "i" * 5001, "the limit is 5,000"),
    ("referral_question", "q" * 2001, "the limit is 2,000"),
    ("precautions", "p" * 2001, "the limit is 2,000"),
    ("plan_frequency", "2x\tweek", "control character"),
    ("plan_duration", "d" * 201, "the limit is 200"),
    ("physician_follow_up", "2031-12-01", "physician_follow_up"),  # over five years ahead
    ("poc_sent_date", "2026-11-23", "poc_sent_date"),
    ("poc_sent_date", "1989-12-31", "poc_sent_date"),
    ("poc_certified_by", "faxed", "must be one of: signed, order on file"),
]


@pytest.mark.parametrize("engine", ["rows", "bulk"])
@pytest.mark.parametrize(("column", "cell", "words"), BAD)
def test_a_bad_clinical_cell_names_file_line_and_column(
        db: Database, tmp_path: Path, engine: str, column: str, cell: str, words: str) -> None:
    header = [*HEAD.split(","), column]
    if column == "poc_certified_by":  # with its date, so that only the word is wrong
        header.append("poc_certified_date")
    rows = [["E0", "MRN0", "2026-01-05", "knee", "", "", *([""] if len(header) > 6 else [])],
            [*BASE.split(","), cell, *(["2026-01-20"] if len(header) > 6 else [])]]
    path = tmp_path / "r.csv"
    path.write_text(csv_text(header, rows))
    with pytest.raises(ImportFailed) as failed:
        run_import(db, "referrals", path, today=DEMO_TODAY, engine=engine)
    (error,) = failed.value.report.errors
    assert (Path(error.file).name, error.line, error.column) == ("r.csv", 3, column)
    assert words in error.message
    with pytest.raises(ValidationError) as direct:  # the core call refuses it too
        update_clinical_on_fresh(tmp_path, column, cell)
    assert words in str(direct.value)
    assert db.execute("SELECT count(*) FROM episodes").fetchone()[0] == 0  # all or nothing


def update_clinical_on_fresh(tmp_path: Path, column: str, cell: str) -> None:
    db = open_db(tmp_path / "core.db")
    try:
        path = tmp_path / "one.csv"
        path.write_text(f"{HEAD}\n{BASE}\n")
        run_import(db, "referrals", path, today=DEMO_TODAY)
        fields = {column: cell}
        if column == "poc_certified_by":
            fields["poc_certified_date"] = "2026-01-20"
        update_clinical(db, "E1", fields, today=DEMO_TODAY)
    finally:
        db.close()


@pytest.mark.parametrize("engine", ["rows", "bulk"])
@pytest.mark.parametrize(("given", "column"), [
    ({"poc_certified_date": "2026-01-20"}, "poc_certified_by"),  # when, but not how
    ({"poc_certified_by": "signed"}, "poc_certified_date"),  # how, but not when
])
def test_certification_needs_how_and_when(db: Database, tmp_path: Path, engine: str,
                                          given: dict[str, str], column: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(csv_text([*HEAD.split(","), *given], [[*BASE.split(","), *given.values()]]))
    with pytest.raises(ImportFailed) as failed:
        run_import(db, "referrals", path, today=DEMO_TODAY, engine=engine)
    (error,) = failed.value.report.errors
    assert (error.line, error.column) == (2, column)
    assert "certified" in error.message


# ------------------------------------------------------------------------------ round trip

# Free text as typed, control characters included, except NUL: the CSV reader refuses a file
# with NUL in it as not text (csvfile.py), so a NUL stored by hand cannot come back by CSV.
_free = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                min_size=1, max_size=60).filter(lambda s: s.strip() == s and s != "")
_line = st.text(st.characters(whitelist_categories=("L", "N", "P", "Zs", "S")),
                min_size=1, max_size=30).filter(lambda s: s.strip() == s and s != "")


def _iso(low: str, high: str) -> st.SearchStrategy[str]:
    from datetime import date

    return st.dates(date.fromisoformat(low), date.fromisoformat(high)).map(
        lambda d: d.isoformat())


def _maybe(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), strategy)


CLINICAL = st.fixed_dictionaries({
    "onset_date": _maybe(_iso("1900-01-01", "2026-11-22")),
    "chief_complaint": _maybe(_free), "history": _maybe(_free), "findings": _maybe(_free),
    "diagnosis": _maybe(st.sampled_from(["M54.50", "S83.511A", "M17.11", "G56.00", "Z96.651"])),
    "treatment": _maybe(_free), "plan": _maybe(_free),
    "plan_frequency": _maybe(_line), "plan_duration": _maybe(_line),
    "plan_interventions": _maybe(_free), "referral_question": _maybe(_free),
    "precautions": _maybe(_free),
    "physician_follow_up": _maybe(_iso("1990-01-01", "2031-11-20")),
    "poc_sent_date": _maybe(_iso("1990-01-01", "2026-11-22")),
    "certified": st.one_of(st.none(), st.tuples(_iso("1990-01-01", "2026-11-22"),
                                                 st.sampled_from(["signed", "order_on_file"]))),
})


def _export(db: Database) -> str:
    return export_text(db, "referrals", "csv")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(CLINICAL, min_size=1, max_size=4))
def test_export_then_import_round_trips_exactly(rows: list[dict[str, Any]]) -> None:
    table = []
    for n, values in enumerate(rows):
        certified = values.pop("certified")
        values["poc_certified_date"], values["poc_certified_by"] = certified or ("", "")
        table.append([f"E{n}", f"MRN{n}", "2026-01-05", "knee", "",
                      *(values[k] for k in CLINICAL_COLUMNS)])
    header = [*HEAD.split(","), *CLINICAL_COLUMNS]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "in.csv"
        source.write_text(csv_text(header, table), encoding="utf-8")
        first = open_db(folder / "a.db")
        second = open_db(folder / "b.db")
        try:
            for engine, db in (("rows", first), ("bulk", second)):
                run_import(db, "referrals", source, today=DEMO_TODAY, engine=engine)
            exported = _export(first)
            assert _export(second) == exported  # both engines stored the same
            for n, values in enumerate(rows):  # and what the file said
                assert clinical_row(first, f"E{n}") == {k: values[k] or None
                                                        for k in CLINICAL_COLUMNS}
            again = folder / "export.csv"
            again.write_text(exported, encoding="utf-8")
            third = open_db(folder / "c.db")
            try:
                run_import(third, "referrals", again, today=DEMO_TODAY)
                assert _export(third) == exported
                for n in range(len(rows)):
                    assert clinical_row(third, f"E{n}") == clinical_row(first, f"E{n}")
            finally:
                third.close()
            report = run_import(first, "referrals", again, today=DEMO_TODAY)
            assert (report.added, report.updated) == (0, 0)
        finally:
            first.close()
            second.close()


def test_the_extras_are_the_clinical_fields_episodes_do_not_carry() -> None:
    from outcomes.models import Episode

    assert set(CLINICAL_EXTRAS) == set(CLINICAL_COLUMNS) - set(Episode.model_fields)
