"""Touchpoints: every contact with a partner, including gifts and meals (with their value)."""

from __future__ import annotations

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.models import Touchpoint
from outcomes.store import audit
from outcomes.store.database import transaction

INSERT_SQL = (
    "INSERT INTO touchpoints (partner_id, date, method, who, summary, amount, next_follow_up,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def row(tp: Touchpoint, created_at: str) -> tuple[object, ...]:
    return (
        tp.partner_id, tp.date.isoformat(), tp.method, tp.who, tp.summary, tp.amount,
        tp.next_follow_up.isoformat() if tp.next_follow_up else None, created_at,
    )


def add_touchpoint(db: Database, tp: Touchpoint) -> bool:
    """Store a touchpoint; return False when the same one was already on file."""
    with transaction(db):
        added = db.execute(INSERT_SQL, row(tp, now_iso())).rowcount > 0
        if added:
            audit.log(db, "add", "touchpoints", partner_id=tp.partner_id, date=tp.date.isoformat())
    return added
