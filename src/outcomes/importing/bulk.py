"""The bulk import engine: the same rules as the row-by-row reference, at the speed of SQLite.

The file is streamed in chunks of ``CHUNK`` rows (never held whole). Each row goes through the
kind's validator compiled for this file (``outcomes.importing.fast``); a row it is unsure of
goes through the kind's own ``prepare``, so stored rows and error messages are the reference's.
Duplicate keys are found in a dict for the first ``KeyStore.IN_MEMORY`` keys, then in a private
temporary SQLite table, so memory stays flat as files grow. Valid chunks are written as they
come, inside ONE transaction that is rolled back if any row failed (unless ``skip_invalid``):
all or nothing, as before.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import operator
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.errors import ValidationError
from outcomes.importing import importer
from outcomes.importing.csvfile import CsvTable, unneutralise
from outcomes.importing.fast import compile_kind
from outcomes.importing.kinds import ImportKind, Prepared, RowContext
from outcomes.measures import responses as measured
from outcomes.measures import summary
from outcomes.store import audit
from outcomes.store.database import transaction

CHUNK = 5_000
# Progress is reported once per chunk; smaller files finish before a bar would be seen.
PROGRESS_ROWS = CHUNK


class KeyStore:
    """Natural keys seen so far -> first line. The first ``IN_MEMORY`` keys are kept in a dict
    (a file of a few thousand rows never opens a database for them); past that, all of them
    move to a private temporary database: SQLite's "" file is created on disk only when its
    cache overflows, readable only by us, and deleted when closed. So memory stays flat.

    A file of at most ``HASHED_LINES`` lines (given ``replay``) keeps only the keys' hashes,
    in a set (about 60 bytes a key against 300 for the key itself, and no key database): a
    file without repeats never stores a key. The first hash seen twice (a repeated key, or
    two keys sharing a hash) ends that: ``replay(line)`` gives again the (key, line) of every
    valid row before ``line``, they go to the key database, and the file goes on exactly as
    above. So a repeat costs one more pass over the rows before it, once per file, and the
    answer never rests on a hash."""

    IN_MEMORY = 20_000
    HASHED_LINES = 200_000
    _hash = staticmethod(hash)  # a test makes every key collide

    def __init__(self) -> None:
        self.seen: dict[Any, int] | None = {}
        self.conn: sqlite3.Connection | None = None
        self.replay: Callable[[int], Iterable[tuple[Any, int]]] | None = None
        self.hashes: set[int] | None = None

    def hashed(self, lines: int, replay: Callable[[int], Iterable[tuple[Any, int]]]) -> None:
        """Keep hashes only, for a file of ``lines`` lines past the dict and within
        ``HASHED_LINES``; ``replay(line)``: (key, line) of the valid rows before ``line``."""
        if self.IN_MEMORY < lines <= self.HASHED_LINES and not self.seen and self.conn is None:
            self.replay, self.hashes = replay, set()

    def add(self, items: list[Prepared]) -> list[tuple[Prepared, int]]:
        """Record the keys of ``items`` (in order); return (item, earlier line) for repeats."""
        hashes = self.hashes
        if hashes is not None:
            before = len(hashes)
            hashes.update(map(self._hash, [item.key for item in items]))
            if len(hashes) - before == len(items):
                return []
            # A hash seen twice: from here on, exact keys (those before this chunk replayed).
            assert self.replay is not None and items
            self.hashes = None
            self._spilled(self.replay(items[0].line))
        seen = self.seen
        if seen is not None and len(seen) + len(items) <= self.IN_MEMORY:
            # Keys compared as the row engine compares them (dict keys).
            repeats = []
            for item in items:
                first = seen.setdefault(item.key, item.line)
                if first != item.line:
                    repeats.append((item, first))
            return repeats
        conn = self._spilled()
        keys = [(repr(item.key), item.line) for item in items]
        before = conn.total_changes
        conn.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", keys)
        if conn.total_changes - before == len(keys):
            return []
        repeats = []
        for item, (key, line) in zip(items, keys, strict=True):
            first = conn.execute("SELECT line FROM seen WHERE key = ?", [key]).fetchone()[0]
            if first != line:
                repeats.append((item, first))
        return repeats

    def _spilled(self, earlier: Iterable[tuple[Any, int]] = ()) -> sqlite3.Connection:
        if self.conn is None:
            self.conn = sqlite3.connect("", isolation_level=None)
            self.conn.execute("PRAGMA cache_size = -8000")  # 8 MB, then it spills to disk
            self.conn.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER)"
                              " WITHOUT ROWID")
            self.conn.execute("BEGIN")
            # Replayed keys hold no repeat (their hashes were distinct); OR IGNORE all the same.
            self.conn.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)",
                                  ((repr(key), line) for key, line in
                                   itertools.chain((self.seen or {}).items(), earlier)))
            self.seen = None
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _chunks(table: CsvTable) -> Iterator[list[tuple[int, list[str]]]]:
    rows = table.rows()
    while chunk := list(itertools.islice(rows, CHUNK)):  # gathered in C, not row by row
        yield chunk


def run_bulk(db: Database, kind: ImportKind, table: CsvTable, mapping: dict[int, str],
             report: importer.ImportReport, ctx: RowContext, *, dry_run: bool,
             skip_invalid: bool, rejects_path: Path | None,
             progress: importer.Progress | None) -> importer.ImportReport:
    with contextlib.ExitStack() as stack:
        keys = KeyStore()
        stack.callback(keys.close)
        writer = None
        if not dry_run:
            stack.enter_context(transaction(db))
            # The row count is not known before the end; the line count is close to it.
            if importer.is_bulk(db, table.lines):
                from outcomes.store.schema import rollups_rebuilt_after

                stack.enter_context(rollups_rebuilt_after(
                    db, writes=kind.table, appends_only=kind.appends_only))
            writer = _writer(kind, db)
        rejects = _validate(kind, table, mapping, report, ctx, keys, writer,
                            skip_invalid=skip_invalid, progress=progress)
        rejects.sort(key=lambda r: r[1].line)
        report.errors.sort(key=lambda e: e.line)
        if report.errors and not skip_invalid:
            raise importer.ImportFailed(report)  # rolls back whatever was written
        if report.errors and skip_invalid and not dry_run:
            report.rejects_file = str(importer.write_rejects(table, rejects, rejects_path))
        if writer is None:
            return report
        report.added, report.updated, report.unchanged = writer.finish()
        audit.log(db, "import", kind.table, file=str(table.path), rows=report.rows,
                  added=report.added, updated=report.updated, rejected=len(report.errors))
    report.written = True
    return report


def _validate(kind: ImportKind, table: CsvTable, mapping: dict[int, str],
              report: importer.ImportReport, ctx: RowContext, keys: KeyStore, writer: Any, *,
              skip_invalid: bool, progress: importer.Progress | None,
              ) -> list[tuple[list[str], importer.RowError]]:
    positions = {name: at for at, name in mapping.items()}
    fast = compile_kind(kind, ctx, positions)
    width = len(table.header)
    total = max(table.lines, 1)
    rejects: list[tuple[list[str], importer.RowError]] = []
    file = report.file

    def fail(line: int, cells: list[str], column: str | None, message: str) -> None:
        error = importer.RowError(file, line, column, message)
        report.errors.append(error)
        rejects.append((cells, error))

    def general(cells: list[str]) -> Prepared:
        """The row's record by the kind's own rules; raises ValidationError. The compiled
        validator refuses (None) a cell that may be one of our neutralised exports (starting
        with '): this path undoes that."""
        values = {mapping[i]: unneutralise(c) if c[:1] == "'" else c
                  for i, c in enumerate(cells)}
        return kind.prepare(values, ctx)

    compiled = fast or (lambda cells: None)

    def replay(before: int) -> Iterator[tuple[Any, int]]:
        """The keys the store was given for the rows before line ``before``: every row that
        passed validation (a repeat among them would have ended the hashes sooner)."""
        for line, cells in table.rows():
            if line >= before:
                return
            if len(cells) <= width:
                try:
                    item = compiled(cells) if len(cells) == width else None
                    yield (general(cells) if item is None else item).key, line
                except ValidationError:
                    continue

    keys.hashed(table.lines, replay)
    for chunk in _chunks(table):
        items: list[Prepared] = []
        report.rows += len(chunk)
        for line, cells in chunk:
            # The compiled validator first; the kind's own rules for what it refuses.
            item = compiled(cells) if len(cells) == width else None
            if item is None:
                if len(cells) > width:
                    fail(line, cells, None,
                         f"the row has {len(cells)} cells but the header has {width}.")
                    continue
                try:
                    item = general(cells)
                except ValidationError as exc:
                    fail(line, cells, importer.column_name(table, mapping, exc.field),
                         str(exc))
                    continue
            item.line, item.cells = line, cells
            items.append(item)
        if items:
            repeated = {id(item): first for item, first in keys.add(items)}
            if repeated:
                for item in items:
                    if id(item) in repeated:
                        fail(item.line, item.cells, None,
                             f"the same {kind.key_description} as line {repeated[id(item)]}.")
                items = [item for item in items if id(item) not in repeated]
        late: list[tuple[Prepared | None, ValidationError]]
        try:
            late = kind.check_references(items, ctx)
        except ValidationError as whole_file:
            late = [(None, whole_file)]
        dropped = set()
        for late_item, problem in late:
            column = importer.column_name(table, mapping, problem.field)
            if late_item is None:
                report.errors.append(importer.RowError(file, 1, column, str(problem)))
            else:
                fail(late_item.line, late_item.cells, column, str(problem))
                dropped.add(id(late_item))
        if dropped:
            items = [item for item in items if id(item) not in dropped]
        # Once a row has failed, an all-or-nothing import will roll back: stop writing, keep
        # checking so that every error is reported.
        if writer is not None and items and (skip_invalid or not report.errors):
            writer.write(items)
        if progress and total > PROGRESS_ROWS:
            progress(min(chunk[-1][0], total), total)
    if progress:
        progress(total, total)
    return rejects


def _writer(kind: ImportKind, db: Database) -> Any:
    """The kind's chunk writer; for responses, one that hands the outcome summary the rows it
    has just written instead of letting it read them back."""
    if kind.name == "responses":
        return ResponsesWriter(db)
    return kind.bulk_writer(db)


_Summarised = tuple[str, str, str, int, str]  # what summary.summarise takes per response


class ResponsesWriter:
    """Writes responses as ``ResponsesKind.write`` does (one upsert per chunk, the same counts)
    and refreshes the chunk's episodes' outcome summary from memory: the responses stored for
    them before the chunk (one read), overlaid with the chunk's own rows, ordered by date and
    id as ``summary.refresh`` would read them. Row ids are SQLite's: a row whose key was stored
    keeps its id, a new row gets the next one; the writer checks that and reads back when not
    (so the order it gives is never a guess)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.created = now_iso()
        self.before = self._count()
        self.rows = self.touched = 0
        # The summary's look-ups (scales, condition groups, decoded scores, dates) are the
        # same for every chunk of one import.
        self.memo = summary.Memo()

    def _count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM responses").fetchone()[0])

    def write(self, chunk: list[Prepared]) -> None:
        conn, created = self.db.conn, self.created
        rows = [(*p.payload.row(), created) for p in chunk]
        given: dict[str, list[_Summarised]] = {row[0]: [] for row in rows}
        episodes = list(given)
        # Most episodes of a first import have nothing stored: only those that do need a
        # look-up per row (a key the upsert replaces keeps its id).
        stored: dict[str, dict[tuple[str, str, str], tuple[int, str]]] = {}
        for eid, instrument, timepoint, when, rid, scores in conn.execute(
                "SELECT episode_id, instrument, timepoint, date, id, scores FROM responses"
                " WHERE episode_id IN (SELECT value FROM json_each(?))", [json.dumps(episodes)]):
            stored.setdefault(eid, {})[(instrument, timepoint, when)] = (rid, scores)
        # The last id given; the upsert gives the chunk's new rows the next ones, in order.
        expected = conn.execute("SELECT max(id) FROM responses").fetchone()[0] or 0
        for eid, instrument, timepoint, when, scores in map(_SUMMARISED, rows):
            had = stored.get(eid)
            known = had.pop((instrument, timepoint, when), None) if had else None
            if known is None:
                expected += 1
                rid = expected
            else:
                rid = known[0]
            given[eid].append((instrument, timepoint, when, rid, scores))
        for eid, had in stored.items():  # stored and not in this chunk
            given[eid].extend((instrument, timepoint, when, rid, scores)
                              for (instrument, timepoint, when), (rid, scores) in had.items())
        before = conn.total_changes
        conn.executemany(measured.INSERT_SQL, rows)
        self.touched += conn.total_changes - before
        self.rows += len(rows)
        if (conn.execute("SELECT max(id) FROM responses").fetchone()[0] or 0) != expected:
            summary.refresh(self.db, episodes, memo=self.memo)  # ids not as foreseen: read back
            return
        for listed in given.values():
            if len(listed) > 1:
                listed.sort(key=_DATE_ID)
        summary.refresh(self.db, episodes, responses=given, memo=self.memo)

    def finish(self) -> tuple[int, int, int]:
        added = self._count() - self.before
        updated = self.touched - added
        return added, updated, self.rows - added - updated


_DATE_ID = operator.itemgetter(2, 3)
# episode, instrument, timepoint, date, scores of a row of responses.INSERT_SQL
_SUMMARISED = operator.itemgetter(0, 1, 3, 4, 6)
