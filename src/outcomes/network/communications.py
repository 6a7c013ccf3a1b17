"""Communications with partners: progress updates, discharge summaries, letters, packets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.models import Communication, validate
from outcomes.network.episodes import get_episode
from outcomes.network.partners import get_partner
from outcomes.store import audit
from outcomes.store.database import transaction


def store_communication(db: Database, comm: Communication) -> int:
    """Store a validated communication; return its id. Joins the caller's transaction."""
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO communications (partner_id, episode_id, date, kind, channel, note,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [comm.partner_id, comm.episode_id, comm.date.isoformat(), comm.kind, comm.channel,
             comm.note, now_iso()],
        )
        audit.log(db, "add", "communications", partner_id=comm.partner_id, kind=comm.kind,
                  episode_id=comm.episode_id, channel=comm.channel)
    return int(cursor.lastrowid or 0)


@dataclass(frozen=True)
class CommunicationLogged:
    id: int
    partner: str
    communication: Communication

    def message(self) -> str:
        c = self.communication
        return f"Logged {c.kind.replace('_', ' ')} to {self.partner} on {c.date}."


def log_communication(db: Database, partner_id: int, fields: Mapping[str, Any], *,
                      today: date | None = None) -> CommunicationLogged:
    """Validate and record something sent to a partner. ``fields``: ``kind``, ``channel``
    (default fax), ``date`` (default today), ``episode_id``, ``note``."""
    partner = get_partner(db, partner_id)
    data = {k: v for k, v in fields.items()
            if v is not None and not (isinstance(v, str) and not v.strip())}
    data["partner_id"] = partner_id
    data.setdefault("date", today)
    if data.get("episode_id"):
        get_episode(db, str(data["episode_id"]))
    comm = validate(Communication, data, today=today)
    return CommunicationLogged(store_communication(db, comm), partner["name"], comm)


@dataclass(frozen=True)
class CommunicationListing:
    id: int
    date: str
    partner: str
    kind: str
    channel: str
    episode_id: str | None
    note: str | None


def list_communications(db: Database, *, partner_id: int | None = None,
                        episode_id: str | None = None,
                        limit: int = 200) -> list[CommunicationListing]:
    """Communications sent to partners, newest first."""
    where: list[str] = []
    params: list[Any] = []
    if partner_id is not None:
        where.append("c.partner_id = ?")
        params.append(partner_id)
    if episode_id:
        where.append("c.episode_id = ?")
        params.append(episode_id)
    return [CommunicationListing(*r) for r in db.execute(
        "SELECT c.id, c.date, p.name, c.kind, c.channel, c.episode_id, c.note"
        " FROM communications c JOIN partners p ON p.id = c.partner_id"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY c.date DESC, c.id DESC LIMIT ?", [*params, limit])]
