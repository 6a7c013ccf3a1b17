"""Making packets from the dashboard: a thin adapter over ``outcomes.packets`` (run in workers)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlite_utils import Database

from outcomes.errors import OutcomesError


def default_out_dir() -> Path:
    """Where packets go unless the user types another folder: ``~/outcomes-packets``."""
    return Path.home() / "outcomes-packets"


def default_period(today: date) -> tuple[date, date]:
    return today - timedelta(days=365), today


def make_packets(
    db: Database, partner_ids: list[int], start: date | None, end: date | None,
    out_dir: Path, today: date, fmt: str = "pdf",
) -> tuple[list[Path], list[str]]:
    """Make one packet per partner; return (paths written, one plain sentence per failure)."""
    from outcomes.documents.packets import file_name, make_packet

    if start is None or end is None:
        start, end = default_period(today)
    out_dir = out_dir.expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        return [], [f"cannot create the folder {out_dir} ({exc.strerror})"]
    written: list[Path] = []
    failed: list[str] = []
    names = dict(db.execute(
        f"SELECT id, name FROM partners WHERE id IN ({', '.join('?' for _ in partner_ids)})",
        partner_ids,
    ).fetchall()) if partner_ids else {}
    for pid in partner_ids:
        name = names.get(pid, str(pid))
        try:
            made = make_packet(db, pid, out_dir / file_name(pid, name, fmt), start, end,
                               today=today)
        except OutcomesError as exc:
            failed.append(f"{name}: {exc}")
        else:
            written.append(made.path)
    return written, failed


__all__ = ["default_out_dir", "default_period", "make_packets"]
