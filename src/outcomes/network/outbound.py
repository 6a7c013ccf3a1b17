"""Outbound referrals: the clinic sends a patient to a partner, for a clinical reason.

The clinical rationale is required: a referral is documented by why the patient needs the
partner's care, never by anything the clinic receives for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from outcomes.errors import ValidationError

# The dashboard's alert worker imports this module for awaiting_findings alone: the record
# models (pydantic), sqlite-utils and the write path are imported by the functions that write.
if TYPE_CHECKING:
    from sqlite_utils import Database

    from outcomes.models import OutboundReferral

INSERT_SQL = (
    "INSERT INTO outbound_referrals (episode_id, partner_id, date, reason, created_at, question)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)

STATUSES = ("sent", "scheduled", "seen", "findings_received", "closed")
"""The outbound loop, in order: a referral moves forward (steps may be skipped)."""
STATUS_DATES = {"scheduled": "scheduled_date", "seen": "seen_date",
                "findings_received": "findings_date", "closed": "closed_date"}


def row(ref: OutboundReferral, created_at: str) -> tuple[object, ...]:
    return (ref.episode_id, ref.partner_id, ref.date.isoformat(), ref.reason, created_at,
            ref.question)


@dataclass(frozen=True)
class OutboundRecorded:
    """A referral out to a partner stored (or found already on file)."""

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
    from outcomes.dates import now_iso
    from outcomes.models import OutboundReferral, validate
    from outcomes.network.episodes import get_episode
    from outcomes.network.partners import get_partner
    from outcomes.store import audit
    from outcomes.store.database import transaction

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


def status_word(text: str) -> str:
    """A status as typed ("findings received", "Findings-Received") to its stored form."""
    folded = str(text).strip().lower().replace("-", " ").replace("_", " ")
    for status in STATUSES:
        if folded == status.replace("_", " ") or (status == "findings_received"
                                                 and folded in ("findings", "received")):
            return status
    raise ValidationError(f"status {text!r} must be one of: "
                          f"{', '.join(s.replace('_', ' ') for s in STATUSES)}.", field="status")


@dataclass(frozen=True)
class OutboundUpdated:
    """An outbound referral's status changed (on ``date``, when one was given)."""

    id: int
    partner: str
    status: str
    date: str | None

    def message(self) -> str:
        when = f" on {self.date}" if self.date else ""
        return (f"Outbound referral {self.id} to {self.partner}: "
                f"{self.status.replace('_', ' ')}{when}.")


def update_outbound(db: Database, outbound_id: int, *, status: str,
                    when: Any = None, findings: str | None = None,
                    today: date | None = None) -> OutboundUpdated:
    """Move an outbound referral along sent -> scheduled -> seen -> findings received -> closed
    (forward only, steps may be skipped), with the date of the step (default today; a
    scheduled date may be ahead). ``findings``: what came back (kept as typed)."""
    from outcomes.dates import parse_date
    from outcomes.dates import today as today_fn
    from outcomes.errors import NotFound
    from outcomes.models import NOTE_MAX
    from outcomes.store import audit
    from outcomes.store.database import transaction

    found = db.execute("SELECT o.status, o.date, p.name, o.findings FROM outbound_referrals o"
                       " JOIN partners p ON p.id = o.partner_id WHERE o.id = ?",
                       [outbound_id]).fetchone()
    if found is None:
        raise NotFound(f"No outbound referral with id {outbound_id}.")
    old, sent, partner, old_findings = found
    new = status_word(status)
    if STATUSES.index(new) < STATUSES.index(old):
        raise ValidationError(f"outbound referral {outbound_id} is already "
                              f"{old.replace('_', ' ')}; it cannot go back to "
                              f"{new.replace('_', ' ')}.", field="status")
    if new == "sent":
        raise ValidationError("an outbound referral is sent when it is recorded; give its next "
                              "step.", field="status")
    ref = today or today_fn()
    on = (parse_date(when, field="date", reference=ref, allow_future=new == "scheduled")
          if when else ref)
    if on.isoformat() < sent:
        raise ValidationError(f"outbound referral {outbound_id} was sent on {sent}; {on} is "
                              "before that.", field="date")
    text = findings.strip() if findings and findings.strip() else None
    if text is not None and len(text) > NOTE_MAX:
        raise ValidationError(f"findings is {len(text):,} characters long; the limit is "
                              f"{NOTE_MAX:,}.", field="findings")
    column = STATUS_DATES[new]
    with transaction(db):
        db.execute(f"UPDATE outbound_referrals SET status = ?, {column} = ?,"
                   " findings = coalesce(?, findings) WHERE id = ?",
                   [new, on.isoformat(), text, outbound_id])
        audit.log(db, "update", "outbound_referrals", id=outbound_id,
                  old={"status": old}, new={"status": new, column: on.isoformat(),
                                            "findings_changed": text is not None
                                            and text != old_findings})
    return OutboundUpdated(outbound_id, partner, new, on.isoformat())


@dataclass(frozen=True)
class OutboundListing:
    """One outbound referral as lists show it, with its partner's name."""

    id: int
    date: str
    partner_id: int
    partner: str
    episode_id: str | None
    reason: str
    question: str | None
    status: str
    scheduled_date: str | None
    seen_date: str | None
    findings_date: str | None
    findings: str | None
    closed_date: str | None


def list_outbound(db: Database, *, partner_id: int | None = None,
                  status: str | None = None, open_only: bool = False,
                  limit: int | None = 200) -> list[OutboundListing]:
    """Outbound referrals with their status, newest first."""
    where: list[str] = []
    params: list[Any] = []
    if partner_id is not None:
        where.append("o.partner_id = ?")
        params.append(partner_id)
    if status:
        where.append("o.status = ?")
        params.append(status_word(status))
    if open_only:
        where.append("o.status != 'closed'")
    return _listings(db, where, params, "o.date DESC, o.id DESC", limit)


def _listings(db: Database, where: list[str], params: list[Any], order: str,
              limit: int | None) -> list[OutboundListing]:
    return [OutboundListing(*r) for r in db.execute(
        "SELECT o.id, o.date, o.partner_id, p.name, o.episode_id, o.reason, o.question,"
        " o.status, o.scheduled_date, o.seen_date, o.findings_date, o.findings, o.closed_date"
        " FROM outbound_referrals o JOIN partners p ON p.id = o.partner_id"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY {order} LIMIT ?", [*params, -1 if limit is None else limit])]


def awaiting_findings(db: Database, today: date, days: int, *,
                      window_days: int | None = None) -> list[OutboundListing]:
    """Outbound referrals sent more than ``days`` days before ``today`` (and, with
    ``window_days``, no more than that many) whose findings are not back (sent, scheduled or
    seen), oldest first."""
    from datetime import timedelta

    cutoff = (today - timedelta(days=days)).isoformat()
    oldest = (today - timedelta(days=window_days)).isoformat() if window_days else ""
    # Filtered in SQL: building every outbound referral of a big history to keep a few cost
    # the dashboard's alert worker 0.03-0.07 s. Dates are ISO text, compared as text both ways.
    return _listings(db, ["o.status IN ('sent', 'scheduled', 'seen')", "o.date >= ?",
                          "o.date < ?"], [oldest, cutoff], "o.date, o.id", None)


@dataclass(frozen=True)
class Reciprocity:
    """Both directions with one partner: how many, and when last."""

    partner_id: int
    partner: str
    received: int
    last_received: str | None
    sent: int
    last_sent: str | None


def reciprocity(db: Database, *, partner_id: int | None = None) -> list[Reciprocity]:
    """The reciprocity ledger: per partner, referrals received from them and sent to them, with
    the date of the last of each. Partners with neither are left out."""
    where = "WHERE p.id = ?" if partner_id is not None else ""
    params = [partner_id] if partner_id is not None else []
    return [Reciprocity(*r) for r in db.execute(
        "SELECT p.id, p.name, coalesce(i.n, 0), i.last, coalesce(o.n, 0), o.last"
        " FROM partners p"
        " LEFT JOIN (SELECT partner_id, count(*) AS n, max(referral_date) AS last FROM episodes"
        "   GROUP BY partner_id) i ON i.partner_id = p.id"
        " LEFT JOIN (SELECT partner_id, count(*) AS n, max(date) AS last FROM outbound_referrals"
        "   GROUP BY partner_id) o ON o.partner_id = p.id"
        f" {where} {'AND' if where else 'WHERE'} (i.n IS NOT NULL OR o.n IS NOT NULL)"
        " ORDER BY p.name COLLATE NOCASE", params)]
