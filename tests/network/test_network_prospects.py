"""NPPES prospect import on a generated file with the real headers (and ~330 columns)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlite_utils import Database

from bench.generate import nppes_header
from outcomes.errors import ValidationError
from outcomes.network.prospects import import_prospects, nucc_kinds, parse_nucc_kinds
from tests.network.helpers import make_npi


def provider(header: list[str], **values: str) -> list[str]:
    row = dict.fromkeys(header, "")
    row["Provider License Number_1"] = "MD12345"
    row["Other Provider Identifier_1"] = "X99"
    taxonomies = values.pop("taxonomies", "")
    primary = values.pop("primary", "1")
    for i, code in enumerate(t for t in taxonomies.split(",") if t):
        row[f"Healthcare Provider Taxonomy Code_{i + 1}"] = code
        row[f"Healthcare Provider Primary Taxonomy Switch_{i + 1}"] = \
            "Y" if str(i + 1) == primary else "N"
    mapping = {
        "npi": "NPI", "entity": "Entity Type Code", "last": "Provider Last Name (Legal Name)",
        "first": "Provider First Name",
        "org": "Provider Organization Name (Legal Business Name)",
        "cred": "Provider Credential Text",
        "address": "Provider First Line Business Practice Location Address",
        "city": "Provider Business Practice Location Address City Name",
        "state": "Provider Business Practice Location Address State Name",
        "zip": "Provider Business Practice Location Address Postal Code",
        "phone": "Provider Business Practice Location Address Telephone Number",
        "fax": "Provider Business Practice Location Address Fax Number",
        "deactivated": "NPI Deactivation Date", "reactivated": "NPI Reactivation Date",
    }
    for key, value in values.items():
        row[mapping[key]] = value
    return [row[h] for h in header]


@pytest.fixture
def nppes(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    header = nppes_header()
    assert len(header) >= 300
    npis = {name: make_npi() for name in (
        "pcp", "ortho", "pt_wa", "deact", "react", "org", "secondary", "unmapped", "badzip",
        "spine", "zipother")}
    people = [
        dict(npi=npis["pcp"], entity="1", last="HALE", first="MARGARET", cred="M.D.",
             taxonomies="207Q00000X", address="1 MAIN ST", city="PORTLAND", state="OR",
             zip="972011234", phone="5035550100", fax="5035550101"),
        dict(npi=npis["ortho"], entity="1", last="OKAFOR", first="SAMUEL", cred="MD",
             taxonomies="207X00000X", state="OR", zip="97232", city="PORTLAND"),
        dict(npi=npis["pt_wa"], entity="1", last="LEE", first="ANA", cred="PT",
             taxonomies="225100000X", state="WA", zip="98101", city="SEATTLE"),
        dict(npi=npis["deact"], entity="1", last="GONE", first="GARY", taxonomies="207Q00000X",
             state="OR", zip="97201", deactivated="05/01/2020"),
        dict(npi=npis["react"], entity="1", last="BACK", first="BETTY", taxonomies="207Q00000X",
             state="OR", zip="97201", deactivated="05/01/2020", reactivated="06/01/2021"),
        dict(npi=npis["org"], entity="2", org="RIVERSIDE GENERAL HOSPITAL",
             taxonomies="282N00000X", state="OR", zip="97210"),
        # Primary taxonomy is the second one: a chiropractor, not a PT.
        dict(npi=npis["secondary"], entity="1", last="PETROV", first="IVAN",
             taxonomies="225100000X,111N00000X", primary="2", state="OR", zip="97220"),
        dict(npi=npis["unmapped"], entity="1", last="DENT", first="DINA",
             taxonomies="1223G0001X", state="OR", zip="97201"),
        dict(npi=npis["badzip"], entity="1", last="ZIP", first="ZED",
             taxonomies="207Q00000X", state="OR", zip="ABCDE"),
        dict(npi=npis["spine"], entity="1", last="SPINE", first="SAL",
             taxonomies="207XS0117X", state="OR", zip="97301"),
        dict(npi=npis["zipother"], entity="1", last="SALEM", first="SUE",
             taxonomies="207Q00000X", state="OR", zip="97302"),
    ]
    path = tmp_path / "npidata_pfile_20050523-20261109.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)  # the real file quotes every field
        writer.writerow(header)
        for p in people:
            writer.writerow(provider(header, **p))
    return path, npis


def names(db: Database) -> dict[str, tuple[str, str, str]]:
    return {r["npi"]: (r["name"], r["kind"], r["stage"])
            for r in db.query("SELECT npi, name, kind, stage FROM partners")}


def test_filter_by_state_zip_and_kind(db: Database, nppes: tuple[Path, dict[str, str]]) -> None:
    path, npis = nppes
    seen: list[tuple[int, int]] = []
    report = import_prospects(db, path, ["OR"], ["972"], ["PCP", "ortho"],
                              progress=lambda done, total: seen.append((done, total)))
    got = names(db)
    assert set(got) == {npis["pcp"], npis["ortho"], npis["react"]}
    assert got[npis["pcp"]] == ("Margaret Hale, M.D.", "primary care", "prospect")
    assert report.added == 3 and report.skipped_deactivated == 1
    assert report.skipped_invalid == 0  # the bad zip never passed the zip filter
    assert report.rows == 11
    assert seen and seen[-1][0] == seen[-1][1] == path.stat().st_size
    row = next(db.query("SELECT * FROM partners WHERE npi = ?", [npis["pcp"]]))
    assert (row["zip"], row["phone"], row["city"], row["stage_source"]) == (
        "97201-1234", "(503) 555-0100", "Portland", "suggested")


def test_primary_taxonomy_decides_the_kind(db: Database,
                                           nppes: tuple[Path, dict[str, str]]) -> None:
    path, npis = nppes
    import_prospects(db, path, ["OR"], [], ["chiropractor", "physical therapist"])
    assert names(db) == {npis["secondary"]: ("Ivan Petrov", "chiropractor", "prospect")}


def test_organisations_unmapped_codes_and_no_filters(
        db: Database, nppes: tuple[Path, dict[str, str]]) -> None:
    path, npis = nppes
    report = import_prospects(db, path)
    got = names(db)
    assert got[npis["org"]] == ("Riverside General Hospital", "hospital", "prospect")
    assert got[npis["spine"]][1] == "spine surgeon"
    assert got[npis["pt_wa"]][1] == "physical therapist"
    assert npis["unmapped"] not in got and npis["deact"] not in got
    assert report.added == len(got) == 8
    assert report.skipped_invalid == 1 and "zip 'ABCDE'" in report.invalid[0]


def test_existing_npis_are_skipped_and_reimport_adds_nothing(
        db: Database, nppes: tuple[Path, dict[str, str]]) -> None:
    path, npis = nppes
    db.execute("INSERT INTO partners (name, kind, npi, stage, stage_source, created_at,"
               " updated_at) VALUES ('Dr. Hale', 'orthopedic surgeon', ?, 'mature', 'user',"
               " 'x', 'x')", [npis["pcp"]])
    first = import_prospects(db, path, ["OR"], ["972"])
    assert first.skipped_existing == 1
    assert names(db)[npis["pcp"]] == ("Dr. Hale", "orthopedic surgeon", "mature")
    before = db.execute("SELECT count(*) FROM partners").fetchone()[0]
    again = import_prospects(db, path, ["OR"], ["972"])
    assert again.added == 0
    assert db.execute("SELECT count(*) FROM partners").fetchone()[0] == before


def test_a_file_that_is_not_nppes_is_refused(db: Database, tmp_path: Path) -> None:
    bad = tmp_path / "partners.csv"
    bad.write_text("name,npi\nDr. A,1234567893\n")
    with pytest.raises(ValidationError, match="not an NPPES dissemination file"):
        import_prospects(db, bad)
    assert db.execute("SELECT count(*) FROM partners").fetchone()[0] == 0


def test_unknown_kind_filter_is_an_error(db: Database,
                                         nppes: tuple[Path, dict[str, str]]) -> None:
    with pytest.raises(ValidationError, match="not a known partner kind"):
        import_prospects(db, nppes[0], kinds=["dentist"])


def test_nucc_mapping_covers_the_common_codes() -> None:
    kinds = {code: tk.kind for code, tk in nucc_kinds().items()}
    expected = {
        "207Q00000X": "primary care", "207R00000X": "internal medicine",
        "207X00000X": "orthopedic surgeon", "207XS0117X": "spine surgeon",
        "2084N0400X": "neurologist", "207QS0010X": "sports medicine",
        "207XX0005X": "sports medicine", "213E00000X": "podiatrist",
        "111N00000X": "chiropractor", "225100000X": "physical therapist",
        "225X00000X": "occupational therapist", "208VP0000X": "pain management",
        "208VP0014X": "pain management", "2081P2900X": "pain management",
        "2084P0800X": "mental health", "103T00000X": "mental health",
        "282N00000X": "hospital",
    }
    assert {c: kinds.get(c) for c in expected} == expected


def test_nucc_mapping_rejects_unknown_kinds() -> None:
    with pytest.raises(ValidationError, match="not a known partner kind"):
        parse_nucc_kinds('[codes]\n"207Q00000X" = { kind = "dentistry", name = "x" }\n')


def test_import_commits_in_batches_and_releases_the_write_lock_between_them(
        db: Database, db_path: Path, nppes: tuple[Path, dict[str, str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole NPPES run takes minutes: the write lock is held only while a batch is inserted,
    so another program can write between batches; an interrupted run keeps whole batches and a
    second run adds the rest (all-or-nothing is not promised here)."""
    import sqlite3

    from outcomes.network import prospects

    path, _npis = nppes
    monkeypatch.setattr(prospects, "BATCH", 2)
    monkeypatch.setattr(prospects, "PROGRESS_EVERY", 1)  # a callback after every row
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    seen_partners: list[int] = []

    def between_rows(_done: int, _total: int) -> None:
        # Fails at once with 'database is locked' if the import held the lock here.
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO settings VALUES ('x_probe', '1') ON CONFLICT DO NOTHING")
        other.execute("COMMIT")
        seen_partners.append(other.execute("SELECT count(*) FROM partners").fetchone()[0])
        if len(seen_partners) == 7:
            raise KeyboardInterrupt  # the user presses Ctrl-C mid-file

    with pytest.raises(KeyboardInterrupt):
        import_prospects(db, path, progress=between_rows)
    kept = db.execute("SELECT count(*) FROM partners").fetchone()[0]
    assert kept > 0 and kept % 2 == 0  # whole batches of 2, committed before the interrupt
    assert seen_partners == sorted(seen_partners) and max(seen_partners) == kept
    batches = db.execute("SELECT count(*) FROM audit_log WHERE action = 'import'"
                         " AND json_extract(detail, '$.batch') IS NOT NULL").fetchone()[0]
    assert batches == kept // 2  # every committed batch has its audit row
    report = import_prospects(db, path)  # running it again adds the rest
    assert report.added == 8 - kept
    assert db.execute("SELECT count(*) FROM partners").fetchone()[0] == 8
    other.close()


@pytest.mark.parametrize(("last", "why"), [("HA\x00LE", "control character"),
                                           ("HA\ufffdLE", "U+FFFD")])
def test_damaged_names_are_counted_invalid_not_imported(db: Database, tmp_path: Path,
                                                        last: str, why: str) -> None:
    """A NUL byte or a replacement character (the trace of bytes a decoder could not read) in
    a name is a damaged row: reported as invalid, never stored as a partner's name."""
    header = nppes_header()
    npi = make_npi()
    path = tmp_path / "npidata_pfile_damaged.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerow(provider(header, npi=npi, entity="1", last=last, first="MARGARET",
                                 taxonomies="207Q00000X", state="OR", zip="97201"))
    report = import_prospects(db, path, ["OR"], [], [])
    assert report.skipped_invalid == 1 and report.added == 0
    assert why in report.invalid[0]
    assert names(db) == {}
