"""Outbound referrals: the clinic sends a patient to a partner, for a clinical reason.

The clinical rationale is required: a referral is documented by why the patient needs the
partner's care, never by anything the clinic receives for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.errors import ValidationError
from outcomes.models import OutboundReferral, validate
from outcomes.network.episodes import get_episode
from outcomes.network.partners import get_partner
from outcomes.store import audit
from outcomes.store.database import transaction

INSERT_SQL = (
    "INSERT INTO outbound_referrals (episode_id, partner_id, date, reason, created_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def row(ref: OutboundReferral, created_at: str) -> tuple[object, ...]:
    return (ref.episode_id, ref.partner_id, ref.date.isoformat(), ref.reason, created_at)


@dataclass(frozen=True)
class OutboundRecorded:
    partner: str
    referral: OutboundReferral
    added: bool

    def message(self) -> str:
        if self.added:
            return f"Recorded referral out to {self.partner} on {self.referral.date}."
        return "That outbound referral was already recorded."


def record_outbound(db: Database, partner_id: int, fields: Mapping[str, Any], *,
                    today: date | None = None) -> OutboundRecorded:
    """Validate and store a referral the clinic sends to a partner. ``fields``: ``reason``
    (the clinical rationale, required), ``date`` (default today), ``episode_id`` (optional)."""
    reason = fields.get("reason")
    if reason is None or not str(reason).strip():
        raise ValidationError("the clinical rationale is required.", field="reason")
    partner = get_partner(db, partner_id)
    data = {k: v for k, v in fields.items()
            if v is not None and not (isinstance(v, str) and not v.strip())}
    data["partner_id"] = partner_id
    data.setdefault("date", today)
    ref = validate(OutboundReferral, data, today=today)
    if ref.episode_id:
        get_episode(db, ref.episode_id)
    with transaction(db):
        added = db.execute(INSERT_SQL, row(ref, now_iso())).rowcount > 0
        if added:
            audit.log(db, "add", "outbound_referrals", partner_id=ref.partner_id,
                      episode_id=ref.episode_id, date=ref.date.isoformat())
    return OutboundRecorded(partner["name"], ref, added)
