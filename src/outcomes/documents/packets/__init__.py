"""Evidence packets for referring partners: what the clinic's outcomes look like for the
patients one partner referred, as PDF, HTML or Markdown.

``content`` builds the format-free content (and holds the de-identification and small-number
rules), with ``bycondition`` and ``evidence`` (time to recovery, observed minus expected);
``pdf``, ``html`` and ``markdown`` render it; ``charts`` lays out the bar and step charts once
for both the PDF and the SVG. Each packet made is logged as a communication with the partner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlite_utils import Database

from outcomes.documents.packets.content import Packet, build_packet
from outcomes.errors import OutcomesError, ValidationError
from outcomes.periods import check_period

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}
PACKET_STAGES = ("active", "growing", "mature")


def format_for(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValidationError(
            f"{path.name}: the packet format comes from the file name; end it in .pdf, .html "
            "or .md."
        )
    return fmt


def render(packet: Packet, fmt: str) -> bytes:
    if fmt == "pdf":
        from outcomes.documents.packets.pdf import render_pdf

        return render_pdf(packet)
    if fmt == "html":
        from outcomes.documents.packets.html import render_html

        return render_html(packet).encode("utf-8")
    from outcomes.documents.packets.markdown import render_markdown

    return render_markdown(packet).encode("utf-8")


@dataclass(frozen=True)
class MadePacket:
    partner_id: int
    partner_name: str
    path: Path
    communication_id: int


def make_packet(
    db: Database, partner_id: int, out: Path, start: date, end: date, *, today: date,
    channel: str | None = None,
) -> MadePacket:
    """Build, render and write one packet (file created 0600), then log it as a communication
    made (not yet sent), with the file's SHA-256."""
    import hashlib

    from outcomes.models import Communication
    from outcomes.network.communications import store_communication
    from outcomes.store.files import write_private_bytes

    fmt = format_for(out)
    packet = build_packet(db, partner_id, start, end, today=today)
    data = render(packet, fmt)
    if not out.parent.is_dir():
        raise ValidationError(f"The folder {out.parent} does not exist.")
    write_private_bytes(out, data)
    preferred = db.execute("SELECT preferred_contact FROM partners WHERE id = ?",
                           [partner_id]).fetchone()
    comm = Communication(
        partner_id=partner_id, date=today, kind="packet",
        channel=channel or (preferred[0] if preferred and preferred[0] else "fax"),
        note=f"Evidence packet ({fmt}), patients referred {packet.period_label}",
    )
    # Made, not sent: sending is the explicit next step (``mark_sent``), with its own date.
    comm_id = store_communication(db, comm, document="packet", status="made",
                                  sha256=hashlib.sha256(data).hexdigest(), file=str(out))
    return MadePacket(partner_id, packet.partner_name, out, comm_id)


def packet_partners(db: Database, start: date, end: date) -> list[tuple[int, str]]:
    """Partners that get a packet with ``--all``: stage active, growing or mature, with at least
    one referral in the period."""
    return [
        (pid, name)
        for pid, name in db.execute(
            "SELECT p.id, p.name FROM partners p WHERE p.stage IN (?, ?, ?) AND EXISTS ("
            " SELECT 1 FROM episodes e WHERE e.partner_id = p.id"
            " AND e.referral_date BETWEEN ? AND ?) ORDER BY p.name COLLATE NOCASE, p.id",
            [*PACKET_STAGES, start.isoformat(), end.isoformat()],
        )
    ]


def file_name(partner_id: int, name: str, fmt: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:40] or "partner"
    return f"packet-{partner_id}-{slug}.{fmt}"


def make_packets(
    db: Database, partner_ids: list[int], out_dir: Path, start: date, end: date, *,
    today: date, fmt: str = "pdf",
) -> tuple[list[MadePacket], list[str]]:
    """One packet per partner into ``out_dir`` (created 0700 if missing); a partner whose packet
    cannot be made does not stop the others. Returns (packets made, one plain sentence per
    failure)."""
    from outcomes.network.partners import get_partner

    if fmt not in ("pdf", "html", "md"):
        raise ValidationError(f"format {fmt!r} must be pdf, html or md.")
    check_period(start, end)
    out_dir = out_dir.expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ValidationError(f"Cannot create the folder {out_dir} ({exc.strerror}).") from None
    made: list[MadePacket] = []
    failed: list[str] = []
    for pid in partner_ids:
        try:
            name = get_partner(db, pid)["name"]
            made.append(make_packet(db, pid, out_dir / file_name(pid, name, fmt), start, end,
                                    today=today))
        except OutcomesError as exc:
            failed.append(f"partner {pid}: {exc}")
    return made, failed


def make_all(
    db: Database, out_dir: Path, start: date, end: date, *, today: date, fmt: str = "pdf",
) -> list[MadePacket]:
    """Packets for every partner of :func:`packet_partners`; stops at the first failure."""
    made, failed = make_packets(db, [pid for pid, _ in packet_partners(db, start, end)], out_dir,
                                start, end, today=today, fmt=fmt)
    if failed:
        raise ValidationError(failed[0])
    return made


__all__ = ["FORMATS", "MadePacket", "Packet", "build_packet", "file_name", "format_for",
           "make_all", "make_packet", "make_packets", "packet_partners", "render"]
