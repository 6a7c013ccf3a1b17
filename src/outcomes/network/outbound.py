"""Outbound referrals: the clinic sends a patient to a partner, for a clinical reason."""

from __future__ import annotations

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.models import OutboundReferral
from outcomes.network.episodes import get_episode
from outcomes.store import audit
from outcomes.store.database import transaction

INSERT_SQL = (
    "INSERT INTO outbound_referrals (episode_id, partner_id, date, reason, created_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def row(ref: OutboundReferral, created_at: str) -> tuple[object, ...]:
    return (ref.episode_id, ref.partner_id, ref.date.isoformat(), ref.reason, created_at)


def add_outbound(db: Database, ref: OutboundReferral) -> bool:
    if ref.episode_id:
        get_episode(db, ref.episode_id)
    with transaction(db):
        added = db.execute(INSERT_SQL, row(ref, now_iso())).rowcount > 0
        if added:
            audit.log(db, "add", "outbound_referrals", partner_id=ref.partner_id,
                      episode_id=ref.episode_id)
    return added
