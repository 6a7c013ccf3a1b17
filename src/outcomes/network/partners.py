"""Partners: people and organisations that refer patients or receive them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.errors import NotFound, ValidationError
from outcomes.models import Partner
from outcomes.store import audit
from outcomes.store.database import transaction

PARTNER_COLUMNS = (
    "name", "organization", "kind", "npi", "phone", "fax", "email", "address", "city", "state",
    "zip", "preferred_contact", "tags", "notes",
)


@dataclass(frozen=True)
class SaveResult:
    id: int
    outcome: str  # "added" | "updated" | "unchanged"


def _row(partner: Partner) -> dict[str, Any]:
    row = {col: getattr(partner, col) for col in PARTNER_COLUMNS}
    row["tags"] = json.dumps(list(partner.tags))
    return row


def find_existing(db: Database, partner: Partner) -> dict[str, Any] | None:
    """The stored partner this record describes: same NPI, or same name when it has no NPI."""
    if partner.npi:
        rows = db.execute("SELECT * FROM partners WHERE npi = ?", [partner.npi])
    else:
        rows = db.execute(
            "SELECT * FROM partners WHERE npi IS NULL AND name = ? COLLATE NOCASE", [partner.name]
        )
    cursor_row = rows.fetchone()
    if cursor_row is None:
        return None
    return dict(zip([d[0] for d in rows.description], cursor_row, strict=True))


def save_partner(db: Database, partner: Partner) -> SaveResult:
    """Insert or update by natural key (NPI, else name). Caller holds the transaction.

    An update changes only the fields the record sets (``model_fields_set``): a file without a
    phone column, or with an empty phone cell, never erases a phone number on file."""
    existing = find_existing(db, partner)
    row = _row(partner)
    now = now_iso()
    if existing is None:
        stage = partner.stage or "prospect"
        cursor = db.execute(
            f"INSERT INTO partners ({', '.join(row)}, stage, stage_source, created_at, updated_at)"
            f" VALUES ({', '.join('?' for _ in row)}, ?, ?, ?, ?)",
            [*row.values(), stage, "user" if partner.stage else "suggested", now, now],
        )
        return SaveResult(int(cursor.lastrowid or 0), "added")
    given = partner.model_fields_set
    changes = {k: v for k, v in row.items() if k in given and v is not None and existing[k] != v}
    if partner.stage and (partner.stage != existing["stage"] or existing["stage_source"] != "user"):
        changes["stage"] = partner.stage
        changes["stage_source"] = "user"
    if not changes:
        return SaveResult(existing["id"], "unchanged")
    changes["updated_at"] = now
    db.execute(
        f"UPDATE partners SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
        [*changes.values(), existing["id"]],
    )
    return SaveResult(existing["id"], "updated")


def add_partner(db: Database, partner: Partner) -> SaveResult:
    """Add one partner; an NPI that is already on file is an error, not a silent update."""
    with transaction(db):
        if partner.npi and find_existing(db, partner):
            raise ValidationError(f"A partner with NPI {partner.npi} already exists.")
        result = save_partner(db, partner)
        audit.log(db, "add", "partners", id=result.id)
    return result


def get_partner(db: Database, partner_id: int) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM partners WHERE id = ?", [partner_id]))
    if not rows:
        raise NotFound(f"No partner with id {partner_id}.")
    return rows[0]


def resolve_partner(db: Database, ref: str) -> dict[str, Any]:
    """Find a partner by NPI, id, or an unambiguous (part of a) name."""
    text = ref.strip()
    if text.isdigit() and len(text) == 10:
        rows = list(db.query("SELECT * FROM partners WHERE npi = ?", [text]))
        if rows:
            return rows[0]
    if text.isdigit():
        rows = list(db.query("SELECT * FROM partners WHERE id = ?", [int(text)]))
        if rows:
            return rows[0]
    rows = list(db.query("SELECT * FROM partners WHERE name = ? COLLATE NOCASE", [text]))
    if len(rows) == 1:
        return rows[0]
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = list(
        db.query(
            "SELECT * FROM partners WHERE name LIKE ? ESCAPE '\\' ORDER BY name LIMIT 6",
            [f"%{like}%"],
        )
    )
    if len(rows) == 1:
        return rows[0]
    if not rows:
        raise NotFound(f"No partner matches {ref!r}; give an NPI, an id, or part of a name.")
    names = "; ".join(f"{r['name']} (id {r['id']})" for r in rows[:5])
    raise ValidationError(f"{ref!r} matches several partners: {names}. Use the id or NPI.")
