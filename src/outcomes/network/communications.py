"""Communications sent to partners: progress updates, discharge summaries, letters, packets."""

from __future__ import annotations

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.models import Communication
from outcomes.store import audit
from outcomes.store.database import transaction


def log_communication(db: Database, comm: Communication) -> int:
    """Record that something was sent to a partner; return its id."""
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO communications (partner_id, episode_id, date, kind, channel, note,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [comm.partner_id, comm.episode_id, comm.date.isoformat(), comm.kind, comm.channel,
             comm.note, now_iso()],
        )
        audit.log(db, "add", "communications", partner_id=comm.partner_id, kind=comm.kind,
                  episode_id=comm.episode_id)
    return int(cursor.lastrowid or 0)
