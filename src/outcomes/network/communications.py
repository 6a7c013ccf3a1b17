"""Communications with partners: letters, packets and anything else sent about a patient.

A document the app writes (a letter, a packet) is recorded as *made*, with the file's SHA-256:
making a file is not sending it. ``mark_sent`` is the separate, explicit step that says it went
out, on which channel and when; only a sent document clears an owed-document alert. A
communication logged by hand (``log_communication``) is logged as sent.
"""

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
from outcomes.store.database import Queryable, transaction

DOCUMENTS = ("evaluation_summary", "progress_note", "discharge_summary", "outbound_note",
             "packet")
"""The documents the app makes (``communications.document``)."""

# The communication kind a document is logged under (the kind vocabulary predates documents).
DOCUMENT_KINDS = {"evaluation_summary": "letter", "progress_note": "progress_update",
                  "discharge_summary": "discharge_summary", "outbound_note": "letter",
                  "packet": "packet"}
# A hand-logged kind names the document it stands for, so it clears that document's alert.
KIND_DOCUMENTS = {"progress_update": "progress_note", "discharge_summary": "discharge_summary",
                  "packet": "packet"}


def store_communication(db: Database, comm: Communication, *, document: str | None = None,
                        status: str = "sent", sha256: str | None = None,
                        file: str | None = None) -> int:
    """Store a validated communication; return its id. ``status`` "made" records a file
    written but not yet sent. Joins the caller's transaction."""
    if status not in ("made", "sent"):
        raise ValueError(status)
    document = document or KIND_DOCUMENTS.get(comm.kind)
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO communications (partner_id, episode_id, date, kind, channel, note,"
            " created_at, document, status, sent_date, sha256, file)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [comm.partner_id, comm.episode_id, comm.date.isoformat(), comm.kind, comm.channel,
             comm.note, now_iso(), document, status,
             comm.date.isoformat() if status == "sent" else None, sha256, file],
        )
        audit.log(db, "add", "communications", partner_id=comm.partner_id, kind=comm.kind,
                  episode_id=comm.episode_id, channel=comm.channel, document=document,
                  status=status, sha256=sha256)
    return int(cursor.lastrowid or 0)


@dataclass(frozen=True)
class CommunicationSent:
    id: int
    document: str
    channel: str
    date: str

    def message(self) -> str:
        return (f"Recorded communication {self.id} ({self.document.replace('_', ' ')}) as sent "
                f"by {self.channel} on {self.date}.")


def mark_sent(db: Database, communication_id: int, *, channel: str, when: Any = None,
              today: date | None = None) -> CommunicationSent:
    """The explicit step after making a document: it was sent, on ``channel``, on ``when``
    (default today), not before the day it was made."""
    from outcomes.dates import parse_date
    from outcomes.errors import NotFound, ValidationError
    from outcomes.vocab import CHANNELS

    found = db.execute("SELECT date, status, coalesce(document, kind), sent_date, channel"
                       " FROM communications WHERE id = ?", [communication_id]).fetchone()
    if found is None:
        raise NotFound(f"No communication with id {communication_id}.")
    made, status, document, sent_date, old_channel = found
    try:
        chan = CHANNELS.normalize(str(channel))
    except ValidationError as exc:
        raise ValidationError(str(exc), field="channel") from None
    sent = parse_date(when, field="date", reference=today) if when else (today or _today())
    if sent.isoformat() < made:
        raise ValidationError(f"communication {communication_id} was made on {made}; it cannot "
                              f"have been sent on {sent}.", field="date")
    if status == "sent" and sent_date == sent.isoformat() and old_channel == chan:
        return CommunicationSent(communication_id, document, chan, sent.isoformat())
    with transaction(db):
        db.execute("UPDATE communications SET status = 'sent', sent_date = ?, channel = ?"
                   " WHERE id = ?", [sent.isoformat(), chan, communication_id])
        if document == "evaluation_summary":
            # The evaluation summary carries the plan of care: sending it is the plan's one-time
            # transmission to the physician (kept on the episode for the certification).
            db.execute("UPDATE episodes SET poc_sent_date = ? WHERE id = (SELECT episode_id"
                       " FROM communications WHERE id = ?) AND poc_sent_date IS NULL",
                       [sent.isoformat(), communication_id])
        audit.log(db, "update", "communications", id=communication_id,
                  old={"status": status, "sent_date": sent_date, "channel": old_channel},
                  new={"status": "sent", "sent_date": sent.isoformat(), "channel": chan})
    return CommunicationSent(communication_id, document, chan, sent.isoformat())


def _today() -> date:
    from outcomes.dates import today

    return today()


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
    (default fax), ``date`` (default today), ``episode_id``, ``note``, and ``document`` (one of
    :data:`DOCUMENTS`, for a letter written elsewhere, e.g. in the EMR: it clears that
    document's alert like one made here)."""
    from outcomes.errors import ValidationError

    partner = get_partner(db, partner_id)
    data = {k: v for k, v in fields.items()
            if v is not None and not (isinstance(v, str) and not v.strip())}
    document = data.pop("document", None)
    if document is not None:
        document = str(document).strip().lower().replace(" ", "_").replace("-", "_")
        if document not in DOCUMENTS:
            raise ValidationError(f"document {fields['document']!r} must be one of: "
                                  f"{', '.join(d.replace('_', ' ') for d in DOCUMENTS)}.",
                                  field="document")
        data.setdefault("kind", DOCUMENT_KINDS[document])
    data["partner_id"] = partner_id
    data.setdefault("date", today)
    if data.get("episode_id"):
        get_episode(db, str(data["episode_id"]))
    comm = validate(Communication, data, today=today)
    return CommunicationLogged(store_communication(db, comm, document=document),
                               partner["name"], comm)


EXPORT_COLUMNS = ("id", "date", "partner", "kind", "document", "channel", "status",
                  "sent_date", "episode_id", "note", "sha256", "file")


@dataclass(frozen=True)
class CommunicationListing:
    id: int
    date: str
    partner: str
    kind: str
    channel: str
    episode_id: str | None
    note: str | None
    document: str | None
    status: str
    sent_date: str | None
    sha256: str | None
    file: str | None


def list_communications(db: Database, *, partner_id: int | None = None,
                        episode_id: str | None = None,
                        limit: int | None = 200) -> list[CommunicationListing]:
    """Communications with partners (made and sent), newest first; ``limit`` None for all."""
    where: list[str] = []
    params: list[Any] = []
    if partner_id is not None:
        where.append("c.partner_id = ?")
        params.append(partner_id)
    if episode_id:
        where.append("c.episode_id = ?")
        params.append(episode_id)
    return [CommunicationListing(*r) for r in db.execute(
        "SELECT c.id, c.date, p.name, c.kind, c.channel, c.episode_id, c.note, c.document,"
        " c.status, c.sent_date, c.sha256, c.file"
        " FROM communications c JOIN partners p ON p.id = c.partner_id"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY c.date DESC, c.id DESC LIMIT ?", [*params, -1 if limit is None else limit])]


def awaiting_sending(db: Queryable, *, limit: int = 200) -> list[CommunicationListing]:
    """Documents made here and not yet recorded as sent (oldest first: the first to fax)."""
    return [CommunicationListing(*r) for r in db.execute(
        "SELECT c.id, c.date, p.name, c.kind, c.channel, c.episode_id, c.note, c.document,"
        " c.status, c.sent_date, c.sha256, c.file"
        " FROM communications c JOIN partners p ON p.id = c.partner_id"
        " WHERE c.status = 'made' ORDER BY c.date, c.id LIMIT ?", [limit])]


def export_json(db: Database, out: Any, *, partner_id: int | None = None,
                episode_id: str | None = None) -> int:
    """Write the communication log as a JSON list of objects with the CSV's columns (owner-only,
    text as stored: JSON is not run as formulas); return the rows."""
    import json
    from pathlib import Path

    from outcomes.store.files import write_private_bytes

    rows = list_communications(db, partner_id=partner_id, episode_id=episode_id, limit=None)
    records = [{c: getattr(r, c) for c in EXPORT_COLUMNS} for r in rows]
    write_private_bytes(Path(out), (json.dumps(records, indent=2, ensure_ascii=False) + "\n")
                        .encode("utf-8"))
    return len(rows)


def export_csv(db: Database, out: Any, *, partner_id: int | None = None,
               episode_id: str | None = None) -> int:
    """Write the communication log as CSV (owner-only: it names episodes); return the rows.
    Text is written as stored; a cell that a spreadsheet would run as a formula is quoted
    with a leading apostrophe."""
    import csv
    import io
    from pathlib import Path

    from outcomes.store.files import write_private_bytes

    rows = list_communications(db, partner_id=partner_id, episode_id=episode_id, limit=None)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for r in rows:
        values = {"id": r.id, "date": r.date, "partner": r.partner, "kind": r.kind,
                  "document": r.document, "channel": r.channel, "status": r.status,
                  "sent_date": r.sent_date, "episode_id": r.episode_id, "note": r.note,
                  "sha256": r.sha256, "file": r.file}
        writer.writerow([_cell(values[c]) for c in EXPORT_COLUMNS])
    write_private_bytes(Path(out), buffer.getvalue().encode("utf-8"))
    return len(rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
