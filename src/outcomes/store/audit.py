"""The audit log: one row per write, and per read that copies data out (export, backup), with who
did it, when, and from or to which file.

Each row is chained to the one before it: ``hash`` is the SHA-256 of the previous row's hash
and of this row's fields (:func:`row_hash`), so :func:`verify` finds a row deleted, inserted or
altered after the fact with the sqlite3 shell. The chain has no secret key: someone who rewrites
every row from the change onwards, hashes included, is found only by comparing the head hash
(printed by ``outcomes audit verify``) with one noted earlier or kept in a backup.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from outcomes.dates import now_iso

if TYPE_CHECKING:
    from sqlite_utils import Database

GENESIS = "0" * 64  # the "previous hash" of the first row
COLUMNS = ("id", "at", "action", "entity", "detail", "actor", "prev_hash", "hash")


@dataclass(frozen=True)
class Entry:
    """One row of the audit log, with its place in the hash chain."""

    id: int
    at: str
    action: str
    entity: str
    detail: str  # JSON
    actor: str | None
    prev_hash: str | None
    hash: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def row_hash(prev_hash: str, id_: int, at: str, action: str, entity: str, detail: str,
             actor: str | None) -> str:
    """The chain link of one row. The id is included, so renumbering a row breaks the chain."""
    payload = json.dumps([prev_hash, id_, at, action, entity, detail, actor],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def log(db: Database, action: str, entity: str, **detail: Any) -> None:
    """Record a write (or a read that copies data out). Call inside the same transaction as the
    write it describes; outside one it takes the write lock itself, so that two processes never
    chain to the same previous row."""
    from outcomes.store.database import transaction

    with transaction(db):
        append(db, [(now_iso(), action, entity,
                     json.dumps(detail, default=str, sort_keys=True), actor())])


def append(db: Database, rows: Iterable[tuple[str, str, str, str, str | None]]) -> int:
    """Append (at, action, entity, detail_json, actor) rows to the chain; the caller holds the
    write lock (inside a transaction). Returns how many were written."""
    last = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    next_id, prev = (last[0] + 1, last[1] or GENESIS) if last else (1, GENESIS)
    count = 0
    for at, action, entity, detail, who in rows:
        digest = row_hash(prev, next_id, at, action, entity, detail, who)
        db.execute(
            "INSERT INTO audit_log (id, at, action, entity, detail, actor, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [next_id, at, action, entity, detail, who, prev, digest],
        )
        prev, next_id, count = digest, next_id + 1, count + 1
    return count


def rechain(db: Database) -> int:
    """Hash every row in id order (the migration that added the chain; caller holds the lock)."""
    prev = GENESIS
    rows = db.execute("SELECT id, at, action, entity, detail, actor FROM audit_log"
                      " ORDER BY id").fetchall()
    for id_, at, action, entity, detail, who in rows:
        digest = row_hash(prev, id_, at, action, entity, detail, who)
        db.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?",
                   [prev, digest, id_])
        prev = digest
    return len(rows)


@cache
def actor() -> str:
    """The operating-system account running the app, from the effective uid (not $USER or
    $LOGNAME, which anyone can set)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # no passwd entry (containers)
        return f"uid {uid}"


def last_id(db: Database) -> int:
    return int(db.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0])


def entries(db: Database, *, since: str | None = None, entity: str | None = None,
            after_id: int | None = None, limit: int | None = None) -> list[Entry]:
    """Audit rows, oldest first. ``since``: an ISO date or timestamp (rows at or after it);
    ``entity``: a table name; ``limit``: the newest N of the matching rows."""
    where: list[str] = []
    params: list[object] = []
    if since:
        where.append("at >= ?")
        params.append(since)
    if entity:
        where.append("entity = ?")
        params.append(entity)
    if after_id is not None:
        where.append("id > ?")
        params.append(after_id)
    sql = f"SELECT {', '.join(COLUMNS)} FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    rows = [Entry(*row) for row in db.execute(sql, params)]
    rows.reverse()
    return rows


@dataclass(frozen=True)
class Problem:
    """What is wrong with one row of the audit log."""

    id: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.id}: {self.reason}"


@dataclass(frozen=True)
class Verdict:
    """The audit log's chain checked: rows read, the last hash, and the problems found."""

    rows: int
    head: str  # the last row's hash (GENESIS for an empty log)
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Database) -> Verdict:
    """Walk the chain in id order; report every row whose link or content does not hold."""
    rows = [Entry(*r) for r in db.execute(
        f"SELECT {', '.join(COLUMNS)} FROM audit_log ORDER BY id")]
    return verify_entries(rows)


def verify_entries(rows: Sequence[Entry]) -> Verdict:
    problems: list[Problem] = []
    prev, prev_id = GENESIS, 0
    for row in rows:
        if row.hash is None or row.prev_hash is None:
            problems.append(Problem(row.id, "has no hash (written outside the app)"))
        else:
            if row.prev_hash != prev:
                problems.append(Problem(row.id, (
                    f"does not follow row {prev_id}: a row was deleted or inserted before it"
                    if prev_id else "does not start the chain: earlier rows were deleted")))
            elif row.id != prev_id + 1:
                problems.append(Problem(row.id, f"follows row {prev_id}: renumbered"))
            expected = row_hash(row.prev_hash, row.id, row.at, row.action, row.entity,
                                row.detail, row.actor)
            if row.hash != expected:
                problems.append(Problem(row.id, "content altered (its hash does not match)"))
        prev, prev_id = row.hash or "", row.id
    return Verdict(len(rows), prev if rows else GENESIS, tuple(problems))
