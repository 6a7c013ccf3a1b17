"""Each compiled validator (nps, touchpoints, partners) row by row against its kind's
``prepare``: a row the compiled one takes must be one ``prepare`` takes, with the same key and
the same stored row or record; and a clean file must take the compiled path (agreement alone
would hold if it always fell back)."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcomes.errors import ValidationError
from outcomes.importing.csvfile import unneutralise
from outcomes.importing.fast import compile_kind
from outcomes.importing.importer import run_import
from outcomes.importing.kinds import KINDS, RowContext
from outcomes.models import Partner
from outcomes.network.partners import _row as partner_row
from outcomes.npi import npi_check_digit
from outcomes.store.database import open_db
from tests.conftest import DEMO_TODAY


def valid_npi(first_nine: str) -> str:
    return first_nine + str(npi_check_digit(first_nine))


DATES = ["2026-01-05", "01/10/2026", " 2026-02-03 ", "2026-02-30", "2030-01-01", "", "x",
         "2026-11-22", "2026-11-23", "1989-12-31", "Mar 4 2025"]
# Free text: blank, plain, padded, at and over NOTE_MAX (5,000), a line break and a tab (not
# printable: the cell-by-cell guard), a non-breaking space (allowed, not printable), cells that
# may be our neutralised exports.
FREE = ["", "ok", "  padded  ", "n" * 5000, " " + "n" * 5000 + " ", "n" * 5001, "a\nb", "a\tb",
        "\u00a0nbsp\u00a0", "'=1+1", "'plain", "x,'y", "\u202eevil"]
LINE = ["", "A. Moreno", " A. Moreno ", "w" * 40, "w" * 41, "w" * 200, "w" * 201, "a\tb",
        "Ünïcødé", "'=cmd", "\u00a0Nbsp"]

CELLS: dict[str, list[str]] = {
    # nps
    "episode_id": ["", "E-1", " E-2 ", "e" * 64, "e" * 65, "E\t3", "'E4", "\u00a0E5"],
    "score": ["", "0", "7", "07", "00", "10", "010", " 9 ", "11", "-1", "1.5", "\u0667", "x"],
    "comment": FREE,
    "date": DATES,
    # touchpoints
    "method": ["phone", "Lunch & Learn", " VISIT ", "smoke signal", "", "'phone"],
    "who": LINE,
    "summary": FREE,
    "amount": ["", "25", "$1,200.50", " 40 ", "100000", "100001", "-5", "abc", "1e3",
               "1.1234567", "\u0665"],
    "next_follow_up": DATES,
    # partners
    "name": ["Dr. A", " Dr. B ", "", "x" * 200, "x" * 201, "Ünïcødé Clinic", "a\tb", "'=cmd",
             "\u00a0Nbsp", "dr a"],
    "npi": ["", valid_npi("123456789"), " " + valid_npi("198765432") + " ",
            valid_npi("298765431"), "1234567890", "123", "3" + valid_npi("12345678")[1:],
            "\uff11234567893"],
    "kind": ["pcp", "Orthopedics", " chiro ", "nonsense", "", "'pcp"],
    "organization": LINE,
    "phone": ["", "503-555-0100", "5" * 40, "5" * 41],
    "fax": ["", "5035550199"],
    "email": ["", "a@b.org", " x@y.com ", "bad", "a@b", "a b@c.d", "e" * 250 + "@b.org"],
    "address": ["", "1 Main St", "a" * 300, "a" * 301],
    "city": ["", "Portland", "c" * 100, "c" * 101],
    "state": ["", "OR", "or", " wa ", "Oregon", "O1", "\ufb00"],
    "zip": ["", "97201", "97201-1234", "9720", "97201-12", "97201\n"],
    "stage": ["", "prospect", "lead", "Active", "bogus"],
    "preferred_contact": ["", "fax", "E-mail", "call", "pigeon"],
    "tags": ["", "a;b", " a ; ;b ", ";".join(["t"] * 50), ";".join(["t"] * 51), "t" * 50,
             "t" * 51, "x\ty"],
    "notes": FREE,
}


# Cells each column's rule takes (boundary values included): a row is drawn from these but for
# at most one column, which takes one of the others above, so that every row is valid or wrong
# in one way only, and the compiled validator has to decide it.
GOOD: dict[str, list[str]] = {
    "episode_id": ["", "E-1", " E-2 ", "e" * 64],
    "score": ["0", "7", "07", "10", " 9 "],
    "comment": ["", "ok", "  padded  ", "n" * 5000, " " + "n" * 5000 + " ", "x,y"],
    "date": ["2026-01-05", "01/10/2026", " 2026-02-03 ", "2026-11-22", "Mar 4 2025"],
    "method": ["phone", "Lunch & Learn", " VISIT "],
    "who": ["", "A. Moreno", " A. Moreno ", "w" * 41, "w" * 200, "Ünïcødé"],
    "summary": ["", "ok", "  padded  ", "n" * 5000, " " + "n" * 5000 + " "],
    "amount": ["", "25", "$1,200.50", " 40 ", "100000", "1.5"],
    "next_follow_up": ["", "2026-01-05", "2030-01-01", " 2026-02-03 "],
    "name": ["Dr. A", " Dr. B ", "x" * 200, "Ünïcødé Clinic", "dr a"],
    "npi": ["", valid_npi("123456789"), " " + valid_npi("198765432") + " ",
            valid_npi("298765431")],
    "kind": ["pcp", "Orthopedics", " chiro "],
    "organization": ["", "A. Moreno", "w" * 200],
    "phone": ["", "503-555-0100", "5" * 40],
    "fax": ["", "5035550199"],
    "email": ["", "a@b.org", " x@y.com ", "e" * 248 + "@b.org"],
    "address": ["", "1 Main St", "a" * 300],
    "city": ["", "Portland", "c" * 100],
    "state": ["", "OR", "or", " wa ", "\ufb00"],
    "zip": ["", "97201", "97201-1234"],
    "stage": ["", "prospect", "lead", "Active"],
    "preferred_contact": ["", "fax", "E-mail", "call"],
    "tags": ["", "a;b", " a ; ;b ", ";".join(["t"] * 50), "t" * 50],
    "notes": ["", "ok", "n" * 5000, " " + "n" * 5000 + " "],
}


@pytest.fixture(scope="module")
def context(demo_template: Path) -> Iterator[RowContext]:
    db = open_db(demo_template)
    try:
        yield RowContext(db, DEMO_TODAY)
    finally:
        db.close()


@pytest.fixture(scope="module")
def partner_cells(demo_template: Path) -> dict[str, list[str]]:
    db = open_db(demo_template)
    try:
        npi, name = db.execute("SELECT npi, name FROM partners WHERE npi IS NOT NULL"
                               " ORDER BY id LIMIT 1").fetchone()
    finally:
        db.close()
    return {"partner_npi": ["", npi, f" {npi} ", "1234567893"],
            "partner": ["", name, name.upper(), "Nobody Known"]}


def reference(kind: str, header: list[str], cells: list[str], ctx: RowContext) -> Any:
    values = {name: unneutralise(c) if c[:1] == "'" else c
              for name, c in zip(header, cells, strict=True)}
    try:
        return KINDS[kind].prepare(values, ctx)
    except ValidationError:
        return None


def stored(kind: str, item: Any) -> Any:
    """What the writer stores from a prepared row, and the record's given fields."""
    if kind == "partners":
        record = item.payload
        return partner_row(record), record.stage, set(record.model_fields_set)
    if item.row is not None:
        return item.row
    return KINDS[kind].row(item.payload, "")[:-1]  # type: ignore[attr-defined]


@settings(max_examples=1000, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["nps", "touchpoints", "partners"]), data=st.data())
def test_a_compiled_row_is_the_reference_row(kind: str, data: st.DataObject,
                                             context: RowContext,
                                             partner_cells: dict[str, list[str]]) -> None:
    columns = [c.name for c in KINDS[kind].columns]
    if kind == "partners":
        header = data.draw(st.permutations(columns), label="header")
        header = header[:data.draw(st.integers(2, len(header)), label="width")]
        header = list(dict.fromkeys(["name", "kind", *header]))
    else:
        header = data.draw(st.permutations(columns), label="header")
    good = {**GOOD, **{name: spelled[1:3] for name, spelled in partner_cells.items()}}
    choices = {**CELLS, **partner_cells}
    odd = data.draw(st.sampled_from([None, *header]), label="odd")
    # The odd column takes a cell its rule does not (when it has one).
    cells = [data.draw(st.sampled_from([c for c in choices[name] if c not in good[name]]
                                       or good[name]) if name == odd else
                       st.sampled_from(good[name]), label=name)
             for name in header]
    fast = compile_kind(KINDS[kind], context, {name: at for at, name in enumerate(header)})
    assert fast is not None
    item = fast(cells)
    expected = reference(kind, header, cells, context)
    if item is None:
        return  # the general path decides: prepare is the reference itself
    assert expected is not None, f"compiled took a row prepare refuses: {cells!r}"
    assert item.key == expected.key
    assert stored(kind, item) == stored(kind, expected)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.mark.parametrize("kind", ["nps", "touchpoints", "partners"])
def test_clean_files_take_the_compiled_path(kind: str, demo_template: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            partner_cells: dict[str, list[str]]) -> None:
    db_path = tmp_path / "d.db"
    shutil.copy(demo_template, db_path)
    db = open_db(db_path)
    episode = db.execute("SELECT id FROM episodes ORDER BY id LIMIT 1").fetchone()[0]
    npi = partner_cells["partner_npi"][1]
    files = {
        "nps": (["episode_id", "date", "score", "comment"],
                [[episode, "2026-11-01", "9", "Great, thanks"], ["", "11/02/2026", "07", ""],
                 [episode, " 2026-11-03 ", "10", "n" * 4000]]),
        "touchpoints": (["partner_npi", "partner", "date", "method", "who", "summary",
                         "amount", "next_follow_up"],
                        [[npi, "", "2026-11-01", "Lunch & Learn", "A. Moreno", "Lunch",
                          "$1,200.50", "2026-12-01"],
                         [npi, "", "11/02/2026", "phone", "", "", "", ""]]),
        "partners": ([c.name for c in KINDS["partners"].columns],
                     [["Dr. New One", valid_npi("123456789"), "pcp", "Clinic", "503-555-0100",
                       "", "a@b.org", "1 Main St", "Portland", "or", "97201", "lead", "fax",
                       "a; b", "Prefers mornings"],
                      ["Dr. No Npi", "", "ortho", "", "", "", "", "", "", "", "", "", "", "",
                       ""]]),
    }
    header, rows = files[kind]
    source = tmp_path / f"{kind}.csv"
    _write(source, header, rows)
    calls: list[dict[str, str]] = []

    def refused(self: Any, values: dict[str, str], ctx: RowContext) -> Any:
        calls.append(values)
        raise ValidationError("the general path was taken")

    monkeypatch.setattr(type(KINDS[kind]), "prepare", refused)
    try:
        report = run_import(db, kind, source, today=DEMO_TODAY)
    finally:
        db.close()
    assert calls == [] and report.written and report.rows == len(rows)


def test_the_light_partner_reads_as_the_model(context: RowContext) -> None:
    """Unset fields read as the model's defaults; the given ones are the record's
    model_fields_set (an update changes only those)."""
    header = ["name", "kind", "phone"]
    fast = compile_kind(KINDS["partners"], context, {n: i for i, n in enumerate(header)})
    assert fast is not None
    item = fast(["Dr. Light", "pcp", ""])
    assert item is not None
    model = Partner.model_validate({"name": "Dr. Light", "kind": "primary care", "tags": []})
    assert item.payload.model_fields_set == model.model_fields_set == {"name", "kind", "tags"}
    assert {name: getattr(item.payload, name) for name in Partner.model_fields} == \
        model.model_dump()
