"""Partners: people and organisations that refer patients or receive them."""

from __future__ import annotations

import json
import operator
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.dates import today as local_today
from outcomes.errors import NotFound, ValidationError
from outcomes.models import Partner, validate
from outcomes.npi import validate_npi
from outcomes.store import audit
from outcomes.store.database import like_pattern, transaction
from outcomes.vocab import PARTNER_KINDS, STAGES

PARTNER_COLUMNS = (
    "name", "organization", "kind", "npi", "phone", "fax", "email", "address", "city", "state",
    "zip", "preferred_contact", "tags", "notes",
)


@dataclass(frozen=True)
class SaveResult:
    id: int
    outcome: str  # "added" | "updated" | "unchanged"


_VALUES = operator.attrgetter(*PARTNER_COLUMNS)
_TAGS_AT = PARTNER_COLUMNS.index("tags")


def _values(partner: Partner) -> list[Any]:
    """The stored values of PARTNER_COLUMNS, in order (one C call: an import saves hundreds)."""
    values = list(_VALUES(partner))
    tags = values[_TAGS_AT]
    values[_TAGS_AT] = json.dumps(list(tags)) if tags else "[]"
    return values


def _row(partner: Partner) -> dict[str, Any]:
    return dict(zip(PARTNER_COLUMNS, _values(partner), strict=True))


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


# SQLite's NOCASE folds ASCII letters only: a name is matched as the partial unique index
# partners_name_without_npi matches it.
_NOCASE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def save_partners(db: Database, partners: Sequence[Partner]) -> list[str]:
    """``save_partner`` for many records, in order: the same rows, updates and outcomes
    ("added", "updated", "unchanged" per record), with one look-up for the stored partners
    and one ``executemany`` for the new ones. Caller holds the transaction (and writes the
    audit row, as around ``save_partner``). Records that name the same partner twice go one
    by one, so that the second sees the first."""
    keys = [("npi", p.npi) if p.npi else ("name", p.name.translate(_NOCASE)) for p in partners]
    if len(set(keys)) < len(keys):
        return [save_partner(db, partner).outcome for partner in partners]
    # A first import (no partner stored yet) has nothing to look up.
    empty = db.conn.execute("SELECT 1 FROM partners LIMIT 1").fetchone() is None
    npis = [] if empty else [p.npi for p in partners if p.npi]
    names = [] if empty else [p.name for p in partners if not p.npi]
    stored: dict[tuple[str, str], dict[str, Any]] = {}
    for query, wanted, key_of in (
            ("SELECT * FROM partners WHERE npi IN (SELECT value FROM json_each(?))",
             npis, lambda row: ("npi", row["npi"])),
            ("SELECT * FROM partners WHERE npi IS NULL AND name COLLATE NOCASE IN"
             " (SELECT value FROM json_each(?))",
             names, lambda row: ("name", row["name"].translate(_NOCASE)))):
        if wanted:
            cursor = db.execute(query, [json.dumps(wanted)])
            columns = [d[0] for d in cursor.description]
            for values in cursor:
                row = dict(zip(columns, values, strict=True))
                stored[key_of(row)] = row
    now = now_iso()
    outcomes: list[str] = []
    new: list[list[Any]] = []
    for partner, key in zip(partners, keys, strict=True):
        existing = stored.get(key)
        if existing is None:
            new.append([*_values(partner), partner.stage or "prospect",
                        "user" if partner.stage else "suggested", now, now])
            outcomes.append("added")
        else:
            # An update (rare in a re-import) takes save_partner's own path.
            outcomes.append(save_partner(db, partner).outcome)
    if new:
        db.conn.executemany(
            f"INSERT INTO partners ({', '.join(PARTNER_COLUMNS)}, stage, stage_source,"
            f" created_at, updated_at) VALUES ({', '.join('?' * (len(PARTNER_COLUMNS) + 4))})",
            new)
    return outcomes


def add_partner(db: Database, fields: Mapping[str, Any] | Partner) -> SaveResult:
    """Add one partner from what a user typed (validated here); an NPI already on file is an
    error, not a silent update. ``stage`` given is the user's choice; omitted, the app
    suggests one."""
    partner = fields if isinstance(fields, Partner) else validate(Partner, _given(fields))
    with transaction(db):
        if partner.npi and find_existing(db, partner):
            raise ValidationError(f"A partner with NPI {partner.npi} already exists.")
        result = save_partner(db, partner)
        audit.log(db, "add", "partners", id=result.id, name=partner.name, npi=partner.npi)
    return result


def _given(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a user filled in (None and blank mean "not given")."""
    return {k: v for k, v in fields.items()
            if v is not None and not (isinstance(v, str) and not v.strip())}


def change_partner(db: Database, partner_id: int, changes: Mapping[str, Any], *,
                   today: date | None = None) -> dict[str, Any]:
    """Change fields of one partner (validated as a whole record); return the changed fields
    with their new values. A field given as None or blank is cleared (except the name and
    kind, which are required). ``stage`` given is the user's choice (stage_source 'user');
    ``stage='auto'`` hands the stage back to the suggestion (see :func:`set_stage`)."""
    row = get_partner(db, partner_id)
    current = {col: row[col] for col in PARTNER_COLUMNS}
    current["tags"] = json.loads(row["tags"] or "[]")
    wanted = dict(changes)
    stage = wanted.pop("stage", None)
    merged = {**current, **wanted}
    partner = validate(Partner, {k: v for k, v in merged.items()
                                 if v is not None and not (isinstance(v, str) and not v.strip())})
    new = {col: getattr(partner, col) for col in PARTNER_COLUMNS}
    new["tags"] = json.dumps(list(partner.tags))
    old = {**current, "tags": row["tags"]}
    diff = {k: v for k, v in new.items() if old[k] != v}
    if diff.get("npi"):
        clash = db.execute("SELECT id FROM partners WHERE npi = ? AND id != ?",
                           [diff["npi"], partner_id]).fetchone()
        if clash:
            raise ValidationError(f"NPI {diff['npi']} already belongs to partner id {clash[0]}.")
    if diff:
        with transaction(db):
            db.execute(
                f"UPDATE partners SET {', '.join(f'{k} = ?' for k in diff)}, updated_at = ? "
                "WHERE id = ?",
                [*diff.values(), now_iso(), partner_id],
            )
            audit.log(db, "update", "partners", id=partner_id,
                      old={k: old[k] for k in diff}, new=diff)
    if stage is not None and str(stage).strip():
        text = str(stage).strip()
        chosen = None if text.lower() == "auto" else STAGES.normalize(text)
        if chosen is None or chosen != row["stage"] or row["stage_source"] != "user":
            diff["stage"] = set_stage(db, partner_id, chosen, today or local_today())
    return diff


def set_stage(db: Database, partner_id: int, stage: str | None, today: date) -> str:
    """Set the user's stage (stage_source 'user'), or with ``None`` hand the stage back to the
    suggestion. Returns the stage now stored."""
    from outcomes.network.stages import suggest_stage

    row = get_partner(db, partner_id)
    if stage is None:
        new, source = suggest_stage(db, partner_id, today), "suggested"
    else:
        new, source = STAGES.normalize(stage), "user"
    with transaction(db):
        db.execute("UPDATE partners SET stage = ?, stage_source = ?, updated_at = ? WHERE id = ?",
                   [new, source, now_iso(), partner_id])
        audit.log(db, "update", "partners", id=partner_id,
                  old={"stage": row["stage"], "stage_source": row["stage_source"]},
                  new={"stage": new, "stage_source": source})
    return new


@dataclass(frozen=True)
class PartnerListing:
    """One line of ``outcomes partners list``."""

    id: int
    name: str
    npi: str | None
    kind: str
    organization: str | None
    stage: str
    stage_source: str
    phone: str | None
    fax: str | None
    email: str | None
    city: str | None
    state: str | None
    referrals_in: int
    referrals_out: int
    last_touch: str | None


def list_partners(db: Database, *, kind: str | None = None,
                  stage: str | None = None) -> list[PartnerListing]:
    """Every partner (optionally of one kind or stage) with its ledger and last touch, by name."""
    where, params = [], []
    if kind:
        where.append("p.kind = ?")
        params.append(PARTNER_KINDS.normalize(kind))
    if stage:
        where.append("p.stage = ?")
        params.append(STAGES.normalize(stage))
    sql = (
        "SELECT p.id, p.name, p.npi, p.kind, p.organization, p.stage, p.stage_source,"
        " p.phone, p.fax, p.email, p.city, p.state,"
        " (SELECT count(*) FROM episodes e WHERE e.partner_id = p.id),"
        " (SELECT count(*) FROM outbound_referrals o WHERE o.partner_id = p.id),"
        " (SELECT max(date) FROM touchpoints t WHERE t.partner_id = p.id)"
        " FROM partners p" + (f" WHERE {' AND '.join(where)}" if where else "") +
        " ORDER BY p.name COLLATE NOCASE, p.id"
    )
    return [PartnerListing(*row) for row in db.execute(sql, params)]


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
    rows = list(
        db.query(
            "SELECT * FROM partners WHERE name LIKE ? ESCAPE '\\' ORDER BY name LIMIT 6",
            [like_pattern(text)],
        )
    )
    if len(rows) == 1:
        return rows[0]
    if not rows:
        raise NotFound(f"No partner matches {ref!r}; give an NPI, an id, or part of a name.")
    names = "; ".join(f"{r['name']} (id {r['id']})" for r in rows[:5])
    raise ValidationError(f"{ref!r} matches several partners: {names}. Use the id or NPI.")


SIMILAR_NAME = 0.88
"""Two partner names at least this similar (0-1, see :func:`name_similarity`) draw a warning
before a new partner is saved: "Jon Smith" against "John Smith" is 0.95, "Jane Smith" against
"John Smith" 0.80."""

# Titles and credentials that say nothing about who a partner is: "Dr. John Smith, MD" and
# "John Smith" are the same person.
_NAME_NOISE = frozenset({
    "dr", "doctor", "md", "do", "dc", "dpm", "dpt", "pt", "pa", "pa c", "np", "phd", "mr", "mrs",
    "ms", "miss", "prof", "rn", "ot", "otr", "atc", "facs", "faaos", "llc", "inc", "pc", "pllc",
    "the", "and",
})


def name_key(name: str) -> str:
    """A partner name reduced to what identifies it: case, accents, punctuation, titles and
    credentials dropped, words sorted (so "Smith, John" matches "John Smith")."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    words = re.findall(r"[a-z0-9]+", plain.replace("&", " and "))
    kept = sorted(w for w in words if w not in _NAME_NOISE)
    return " ".join(kept or words)


def name_similarity(a: str, b: str) -> float:
    """How alike two partner names are, from 0 (nothing shared) to 1 (the same once titles,
    order and punctuation are set aside). Symmetric."""
    return _key_similarity(name_key(a), name_key(b))


def _key_similarity(ka: str, kb: str, floor: float = 0.0) -> float:
    """:func:`name_similarity` of two keys; 0 as soon as it is clear the result is below
    ``floor`` (the cheap upper bounds of ``SequenceMatcher`` are checked first, which makes a
    check against thousands of partners several times faster)."""
    if not ka or not kb:
        return 0.0
    if ka == kb:
        return 1.0
    forward = SequenceMatcher(None, ka, kb, autojunk=False)
    # Both bounds depend only on lengths and letters, so they hold for either order.
    if forward.real_quick_ratio() < floor or forward.quick_ratio() < floor:
        return 0.0
    return max(forward.ratio(), SequenceMatcher(None, kb, ka, autojunk=False).ratio())


@dataclass(frozen=True)
class PartnerClash:
    """A partner on file that a new one may duplicate."""

    partner_id: int
    name: str
    npi: str | None
    reason: str
    """"npi" (the NPI is on file: the core refuses a second partner with it) or "name" (a
    very similar name: the user may still add the new partner)."""
    similarity: float

    def message(self, new_name: str) -> str:
        if self.reason == "npi":
            renamed = (f"; if {self.name} changed its name to {new_name}, edit that partner"
                       if name_key(self.name) != name_key(new_name) else "")
            return (f"NPI {self.npi} is already on file for {self.name} (partner id "
                    f"{self.partner_id}){renamed}.")
        return (f"A partner with a very similar name is on file: {self.name} (partner id "
                f"{self.partner_id}{f', NPI {self.npi}' if self.npi else ''}).")


def partner_clashes(db: Database, name: str, npi: str | None = None, *,
                    threshold: float = SIMILAR_NAME, limit: int = 5) -> list[PartnerClash]:
    """The partners on file that a new partner named ``name`` (with ``npi``) may duplicate: the
    one holding the NPI first, then up to ``limit`` with a name at least ``threshold`` similar,
    most similar first. An invalid or blank NPI is not looked up (the form says why it is
    invalid)."""
    clashes: list[PartnerClash] = []
    try:
        number = validate_npi(npi) if npi and npi.strip() else None
    except ValidationError:
        number = None
    if number:
        row = db.execute("SELECT id, name, npi FROM partners WHERE npi = ?", [number]).fetchone()
        if row:
            clashes.append(PartnerClash(int(row[0]), str(row[1]), row[2], "npi",
                                        name_similarity(name, str(row[1])) if name else 0.0))
    if not name or not name.strip():
        return clashes
    taken = {c.partner_id for c in clashes}
    key = name_key(name)
    similar: list[PartnerClash] = []
    for pid, other, other_npi in db.execute("SELECT id, name, npi FROM partners"):
        if pid in taken:
            continue
        score = _key_similarity(key, name_key(str(other)), threshold)
        if score >= threshold:
            similar.append(PartnerClash(int(pid), str(other), other_npi, "name", score))
    similar.sort(key=lambda c: (-c.similarity, c.name.casefold(), c.partner_id))
    return clashes + similar[:limit]
