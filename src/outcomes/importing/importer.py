"""CSV import, one shape for every kind of record.

An import runs in two phases. First every row is validated (no lock held, nothing written), and
each problem is reported with file, line and column. Then, if no row failed (or
``skip_invalid``), the good rows are written in ONE transaction: all or nothing. Re-importing the
same file changes nothing, because every kind has a natural key.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from outcomes.errors import OutcomesError, ValidationError
from outcomes.importing.csvfile import CsvTable, fold, neutralise, read_table, unneutralise
from outcomes.importing.kinds import KINDS, ImportKind, Prepared, RowContext
from outcomes.store import audit
from outcomes.store.database import transaction
from outcomes.store.files import write_private_text

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    kind: str
    file: str
    encoding: str
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    rejects_file: str | None = None

    def summary(self) -> str:
        verb = "would import" if not self.written else "imported"
        text = (f"{self.kind}: {verb} {self.rows - len(self.errors)} of {self.rows} rows "
                f"from {self.file}")
        if self.written:
            text += f" ({self.added} added, {self.updated} updated, {self.unchanged} unchanged)"
        if self.errors:
            text += f"; {len(self.errors)} invalid"
            if self.rejects_file:
                text += f", written to {self.rejects_file}"
        return text + "."


class ImportFailed(OutcomesError):
    """Some rows are invalid and nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        shown = "\n".join(f"  {e}" for e in report.errors[:20])
        more = len(report.errors) - 20
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{len(report.errors)} of {report.rows} rows in {report.file} are invalid; "
            f"nothing was imported. Fix them, or use --skip-invalid to import the rest:\n"
            f"{shown}{tail}"
        )


def get_kind(name: str) -> ImportKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValidationError(
            f"{name!r} is not a kind of record; use one of: {', '.join(KINDS)}."
        ) from None


def map_header(kind: ImportKind, table: CsvTable) -> dict[int, str]:
    """Column position -> canonical column name; unknown or missing columns are errors."""
    accepted = kind.accepted_names()
    mapping: dict[int, str] = {}
    seen: dict[str, str] = {}
    for position, name in enumerate(table.header):
        canonical = accepted.get(fold(name))
        if canonical is None:
            raise ValidationError(
                f"{table.path}, line 1, column {name!r}: not a column of {kind.name}; "
                f"accepted columns: {', '.join(c.name for c in kind.columns)}."
            )
        if canonical in seen:
            raise ValidationError(
                f"{table.path}, line 1: columns {seen[canonical]!r} and {name!r} both mean "
                f"{canonical}."
            )
        seen[canonical] = name
        mapping[position] = canonical
    for group in kind.required:
        if not any(col in seen for col in group):
            raise ValidationError(
                f"{table.path}, line 1: the {' or '.join(group)} column is missing; "
                f"`outcomes template {kind.name}` prints a header to start from."
            )
    return mapping


def run_import(
    db: Database,
    kind_name: str,
    path: Path | str,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    today: date | None = None,
    engine: str = "bulk",
) -> ImportReport:
    """Validate a CSV file and, unless ``dry_run``, write it all or nothing.

    ``engine="bulk"`` (the default) streams the file in chunks through validators compiled
    for it and writes each chunk as it goes, inside one transaction; ``engine="rows"`` is the
    reference: every row through the kind's own ``prepare``, all rows held, then written.
    Both store the same rows and report the same errors (a differential test holds them)."""
    kind = get_kind(kind_name)
    table = read_table(path)
    mapping = map_header(kind, table)
    report = ImportReport(kind.name, str(table.path), table.encoding)
    ctx = RowContext(db, today)
    if engine == "bulk":
        from outcomes.importing.bulk import run_bulk

        return run_bulk(db, kind, table, mapping, report, ctx, dry_run=dry_run,
                        skip_invalid=skip_invalid, rejects_path=rejects_path, progress=progress)
    if engine != "rows":
        raise ValueError(f"unknown import engine {engine!r}")
    prepared: list[Prepared] = []
    keys: dict[Any, int] = {}
    rejects: list[tuple[list[str], RowError]] = []
    # Progress counts lines of the file (cheap to know, close to bytes for CSV).
    total = max(table.lines, 1)
    header_width = len(table.header)
    for line, cells in table.rows():
        report.rows += 1
        if progress and report.rows % 2000 == 0:
            progress(min(line, total), total)
        error = None
        if len(cells) > header_width:
            error = RowError(report.file, line, None,
                             f"the row has {len(cells)} cells but the header has "
                             f"{header_width}.")
        else:
            values = {mapping[i]: unneutralise(c) if c[:1] == "'" else c
                      for i, c in enumerate(cells)}
            try:
                item = kind.prepare(values, ctx)
                if item.key in keys:
                    raise ValidationError(
                        f"the same {kind.key_description} as line {keys[item.key]}."
                    )
                keys[item.key] = line
                item.line, item.cells = line, cells
                prepared.append(item)
            except ValidationError as exc:
                column = column_name(table, mapping, exc.field)
                error = RowError(report.file, line, column, str(exc))
        if error is not None:
            report.errors.append(error)
            rejects.append((cells, error))
    late: list[tuple[Prepared | None, ValidationError]]
    try:
        late = kind.check_references(prepared, ctx)
    except ValidationError as whole_file:
        late = [(None, whole_file)]
    dropped = set()
    for late_item, problem in late:
        column = column_name(table, mapping, problem.field)
        error = RowError(report.file, late_item.line if late_item else 1, column, str(problem))
        report.errors.append(error)
        if late_item is not None:
            rejects.append((late_item.cells, error))
            dropped.add(id(late_item))
    prepared = [p for p in prepared if id(p) not in dropped]
    rejects.sort(key=lambda r: r[1].line)
    report.errors.sort(key=lambda e: e.line)
    if progress:
        progress(total, total)
    if report.errors and not skip_invalid:
        raise ImportFailed(report)
    if report.errors and skip_invalid and not dry_run:
        report.rejects_file = str(write_rejects(table, rejects, rejects_path))
    if dry_run:
        return report
    with transaction(db):
        if is_bulk(db, len(prepared)):
            from outcomes.store.schema import rollups_rebuilt_after

            with rollups_rebuilt_after(db, writes=kind.table,
                                       appends_only=kind.appends_only):
                counts = kind.write(db, prepared)
        else:
            counts = kind.write(db, prepared)
        report.added, report.updated, report.unchanged = counts
        audit.log(db, "import", kind.table, file=str(table.path), rows=report.rows,
                  added=report.added, updated=report.updated, rejected=len(report.errors))
    report.written = True
    return report


# A load this large rebuilds the monthly rollups once instead of updating them row by row.
BULK_ROWS = 20_000


def is_bulk(db: Database, rows: int) -> bool:
    """Large against the database too: a rebuild reads every episode, so a 20,000-row import
    into a clinic with a million episodes still takes the row-by-row path."""
    if rows < BULK_ROWS:
        return False
    episodes = db.execute("SELECT count(*) FROM episodes").fetchone()[0]
    return rows * 4 >= episodes


_is_bulk = is_bulk  # the name tests/store/test_rollups.py knows


def column_name(table: CsvTable, mapping: dict[int, str], fieldname: str | None) -> str | None:
    if not fieldname:
        return None
    base = fieldname.split(".")[0]
    for position, canonical in mapping.items():
        if canonical == base:
            return table.header[position]
    return base


def write_rejects(table: CsvTable, rejects: list[tuple[list[str], RowError]],
                  rejects_path: Path | None) -> Path:
    """The rejected rows as they were, with the line and the reason, for fixing and re-import.

    Written like every private file: a new file, 0600, renamed into place (so a symlink planted
    under the name is replaced, never followed), every cell neutralised so a spreadsheet shows
    a formula as text (``unneutralise`` undoes it on re-import)."""
    target = rejects_path or table.path.with_suffix(".rejects.csv")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in [*table.header, "line", "error"]])
    for cells, error in rejects:
        padded = cells + [""] * (len(table.header) - len(cells))
        writer.writerow([neutralise(c) for c in [*padded, error.line, error.message]])
    write_private_text(target, out.getvalue())
    return target
