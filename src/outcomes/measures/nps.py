"""Net Promoter responses: storage. Analytics live in ``nps_stats``."""

from __future__ import annotations

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.models import NpsResponse
from outcomes.network.episodes import get_episode
from outcomes.store import audit
from outcomes.store.database import transaction

INSERT_SQL = (
    "INSERT INTO nps_responses (episode_id, date, score, comment, created_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def row(response: NpsResponse, created_at: str) -> tuple[object, ...]:
    return (response.episode_id, response.date.isoformat(), response.score, response.comment,
            created_at)


def add_nps(db: Database, response: NpsResponse) -> bool:
    """Store one NPS answer; return False when the same answer was already on file."""
    if response.episode_id:
        get_episode(db, response.episode_id)
    with transaction(db):
        cursor = db.execute(INSERT_SQL, row(response, now_iso()))
        added = cursor.rowcount > 0
        if added:
            audit.log(db, "add", "nps_responses", episode_id=response.episode_id,
                      date=response.date.isoformat())
    return added
