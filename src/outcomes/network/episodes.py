"""Episodes of care: the inbound referral and what became of it."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.errors import NotFound
from outcomes.models import Episode, Patient

EPISODE_COLUMNS = (
    "partner_id", "referral_date", "body_region", "diagnosis", "status_reason",
    "scheduled_date", "first_visit_date", "discharge_date", "visits", "discharge_reason",
    "clinician", "clinic", "onset_date", "chief_complaint", "findings", "treatment", "plan",
    "instrument", "procedure", "surgical",
)


@dataclass(frozen=True)
class EpisodeSave:
    id: str
    outcome: str  # "added" | "updated" | "unchanged"


def save_patient(db: Database, patient: Patient) -> int:
    """Insert or fill in a patient by record number; return its id. Caller holds the transaction.

    Identity fields are only filled in, never blanked, by a later row that omits them."""
    row = db.execute(
        "SELECT id, name, birth_date, sex FROM patients WHERE record_number = ?",
        [patient.record_number],
    ).fetchone()
    birth = patient.birth_date.isoformat() if patient.birth_date else None
    if row is None:
        cursor = db.execute(
            "INSERT INTO patients (record_number, name, birth_date, sex, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [patient.record_number, patient.name, birth, patient.sex, now_iso()],
        )
        return int(cursor.lastrowid or 0)
    updates = {
        k: v
        for k, v, old in (("name", patient.name, row[1]), ("birth_date", birth, row[2]),
                          ("sex", patient.sex, row[3]))
        if v is not None and v != old
    }
    if updates:
        db.execute(
            f"UPDATE patients SET {', '.join(f'{k} = ?' for k in updates)} WHERE id = ?",
            [*updates.values(), row[0]],
        )
    return int(row[0])


def _value(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


def derive_status(row: dict[str, Any]) -> str:
    """The status the dates imply when no status was given."""
    if row.get("discharge_date"):
        return "discharged"
    if row.get("first_visit_date"):
        return "in_care" if (row.get("visits") or 0) > 1 else "evaluated"
    if row.get("scheduled_date"):
        return "scheduled"
    return "received"


def save_episode(db: Database, episode: Episode, patient_id: int) -> EpisodeSave:
    """Insert or update an episode by its id. Caller holds the transaction and refreshes the
    outcome summary for the episode afterwards.

    An update changes only the fields the record sets, so a re-import of a file with fewer
    columns (or empty cells) never erases what is on file; the status follows the merged dates
    unless the record names one."""
    existing = list(db.query("SELECT * FROM episodes WHERE id = ?", [episode.id]))
    if not existing:
        cols, values = _insert_values(episode, patient_id, now_iso())
        db.execute(
            f"INSERT INTO episodes ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            values,
        )
        return EpisodeSave(episode.id, "added")
    return _update_episode(db, episode, patient_id, existing[0])


def _insert_values(episode: Episode, patient_id: int, now: str) -> tuple[list[str], list[Any]]:
    row = {col: _value(getattr(episode, col)) for col in EPISODE_COLUMNS}
    row["patient_id"] = patient_id
    row["status"] = episode.status or derive_status(row)
    return ["id", *row, "created_at", "updated_at"], [episode.id, *row.values(), now, now]


def _update_episode(db: Database, episode: Episode, patient_id: int, old: dict[str, Any]
                    ) -> EpisodeSave:
    given = episode.model_fields_set
    row = {col: _value(getattr(episode, col)) for col in EPISODE_COLUMNS}
    row["patient_id"] = patient_id
    updates = {k: v for k, v in row.items()
               if (k in given or k == "patient_id") and v is not None}
    merged = {**old, **updates}
    updates["status"] = episode.status or (
        old["status"] if old["status"] in ("not_scheduled", "cancelled") and "status" not in given
        else derive_status(merged))
    changes = {k: v for k, v in updates.items() if old[k] != v}
    if not changes:
        return EpisodeSave(episode.id, "unchanged")
    changes["updated_at"] = now_iso()
    db.execute(
        f"UPDATE episodes SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
        [*changes.values(), episode.id],
    )
    return EpisodeSave(episode.id, "updated")


def save_patients(db: Database, patients: Sequence[Patient]) -> dict[str, int]:
    """Bulk :func:`save_patient` for an import: the same result as calling it for each patient in
    order (identity fields only filled in, a later non-empty value wins), with one SELECT per 900
    record numbers instead of one per row. Return record number -> patient id."""
    merged: dict[str, dict[str, Any]] = {}
    for patient in patients:
        fields = merged.setdefault(patient.record_number, {})
        birth = patient.birth_date.isoformat() if patient.birth_date else None
        for key, value in (("name", patient.name), ("birth_date", birth), ("sex", patient.sex)):
            if value is not None:
                fields[key] = value
    existing: dict[str, tuple[Any, ...]] = {}
    for chunk in _chunks(list(merged)):
        for row in db.execute(
            "SELECT record_number, id, name, birth_date, sex FROM patients"
            f" WHERE record_number IN ({', '.join('?' for _ in chunk)})", chunk,
        ):
            existing[row[0]] = row[1:]
    now = now_iso()
    db.conn.executemany(
        "INSERT INTO patients (record_number, name, birth_date, sex, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(rn, f.get("name"), f.get("birth_date"), f.get("sex"), now)
         for rn, f in merged.items() if rn not in existing],
    )
    updates = []
    for rn, f in merged.items():
        old = existing.get(rn)
        if old is None:
            continue
        new = [f.get(k, current) for k, current in zip(("name", "birth_date", "sex"), old[1:],
                                                          strict=True)]
        if new != list(old[1:]):
            updates.append((*new, old[0]))
    db.conn.executemany("UPDATE patients SET name = ?, birth_date = ?, sex = ? WHERE id = ?",
                        updates)
    ids = {rn: int(old[0]) for rn, old in existing.items()}
    new_numbers = [rn for rn in merged if rn not in existing]
    for chunk in _chunks(new_numbers):
        ids.update(db.execute(
            "SELECT record_number, id FROM patients"
            f" WHERE record_number IN ({', '.join('?' for _ in chunk)})", chunk,
        ).fetchall())
    return ids


_FIELDS = operator.attrgetter(*EPISODE_COLUMNS)
_DATES = [k for k, col in enumerate(EPISODE_COLUMNS) if col.endswith("_date")]
_AT = {col: k for k, col in enumerate(EPISODE_COLUMNS)}
_INSERT_COLUMNS = ["id", *EPISODE_COLUMNS, "patient_id", "status", "created_at", "updated_at"]


def _insert_row(episode: Episode, patient_id: int, now: str) -> list[Any]:
    """What _insert_values gives, as one list, without a dict per row (bulk imports)."""
    values = list(_FIELDS(episode))
    for k in _DATES:
        if values[k] is not None:
            values[k] = values[k].isoformat()
    status = episode.status
    if not status:  # derive_status on the row
        if values[_AT["discharge_date"]]:
            status = "discharged"
        elif values[_AT["first_visit_date"]]:
            status = "in_care" if (values[_AT["visits"]] or 0) > 1 else "evaluated"
        elif values[_AT["scheduled_date"]]:
            status = "scheduled"
        else:
            status = "received"
    return [episode.id, *values, patient_id, status, now, now]


def save_episodes(db: Database, items: Sequence[tuple[Episode, int]]) -> list[EpisodeSave]:
    """Bulk :func:`save_episode` (each episode id at most once), with the same result: existing
    rows are read once per 900 ids, new rows inserted with one executemany. Caller holds the
    transaction."""
    existing: dict[str, dict[str, Any]] = {}
    for chunk in _chunks([episode.id for episode, _ in items]):
        cursor = db.execute(
            f"SELECT * FROM episodes WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)
        names = [d[0] for d in cursor.description]
        for row in cursor:
            existing[row[0]] = dict(zip(names, row, strict=True))
    now = now_iso()
    inserts: list[list[Any]] = []
    results: list[EpisodeSave] = []
    cols = _INSERT_COLUMNS
    for episode, patient_id in items:
        old = existing.get(episode.id)
        if old is None:
            inserts.append(_insert_row(episode, patient_id, now))
            results.append(EpisodeSave(episode.id, "added"))
        else:
            results.append(_update_episode(db, episode, patient_id, old))
    if inserts:
        db.conn.executemany(
            f"INSERT INTO episodes ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            inserts,
        )
    return results


def _chunks(values: list[str], size: int = 900) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def get_episode(db: Database, episode_id: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM episodes WHERE id = ?", [episode_id]))
    if not rows:
        raise NotFound(f"No episode with id {episode_id!r}.")
    return rows[0]


def require_episodes(db: Database, episode_ids: set[str]) -> set[str]:
    """The subset of ``episode_ids`` that does not exist."""
    if not episode_ids:
        return set()
    found: set[str] = set()
    ids = list(episode_ids)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        found.update(
            r[0]
            for r in db.execute(
                f"SELECT id FROM episodes WHERE id IN ({', '.join('?' for _ in chunk)})", chunk
            )
        )
    return episode_ids - found
