"""Touchpoints: every contact with a partner, including gifts and meals (with their value).

The gift/meal limit is enforced here, so both faces of the app enforce it the same way: a
touchpoint whose amount takes the partner's calendar-year total over the limit is refused with
:class:`SpendLimitExceeded` unless the user confirms it (``confirm_over_limit``); near the limit,
the touchpoint is stored with a warning (see ``outcomes.network.spend``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.errors import OutcomesError
from outcomes.models import Touchpoint, validate
from outcomes.network.partners import get_partner
from outcomes.network.spend import SpendCheck, check_spend
from outcomes.store import audit
from outcomes.store.database import transaction

INSERT_SQL = (
    "INSERT INTO touchpoints (partner_id, date, method, who, summary, amount, next_follow_up,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


class SpendLimitExceeded(OutcomesError):
    """The amount would take the partner's gifts and meals for the year over the limit.

    Nothing was stored. The message is the same in every face of the app; the override is
    ``confirm_over_limit=True`` (``--confirm-over-limit`` on the command line, a confirmation
    in the dashboard)."""

    def __init__(self, check: SpendCheck, partner: str) -> None:
        self.check = check
        self.partner = partner
        super().__init__(check.message(partner) + " Nothing was recorded; confirm to record it "
                         "anyway.")


@dataclass(frozen=True)
class TouchpointLogged:
    partner_id: int
    partner: str
    touchpoint: Touchpoint
    added: bool
    """False when the same touchpoint was already on file (nothing changed)."""
    spend: SpendCheck | None
    """Where the year's gifts and meals stand, when the touchpoint has an amount."""

    @property
    def warning(self) -> str | None:
        """The spend warning to show next to the result (near or over the limit, or a limit
        setting for another year), else None."""
        if self.spend is None or (self.spend.status == "ok" and not self.spend.stale_limit):
            return None
        return self.spend.message(self.partner)

    def message(self) -> str:
        if self.added:
            return f"Logged {self.touchpoint.method} with {self.partner} on {self.touchpoint.date}."
        return (f"The same touchpoint with {self.partner} on {self.touchpoint.date} was already "
                "logged.")


def row(tp: Touchpoint, created_at: str) -> tuple[object, ...]:
    return (
        tp.partner_id, tp.date.isoformat(), tp.method, tp.who, tp.summary, tp.amount,
        tp.next_follow_up.isoformat() if tp.next_follow_up else None, created_at,
    )


def prepare_touchpoint(partner_id: int, fields: Mapping[str, Any], *,
                       today: date | None = None) -> Touchpoint:
    """Validate what the user typed for a touchpoint (no database needed)."""
    data = {k: v for k, v in fields.items()
            if v is not None and not (isinstance(v, str) and not v.strip() and k != "summary")}
    data["partner_id"] = partner_id
    if isinstance(data.get("amount"), str):
        data["amount"] = data["amount"].replace("$", "").replace(",", "").strip()
    data.setdefault("summary", "")
    data.setdefault("date", today)
    return validate(Touchpoint, data, today=today)


def spend_preview(db: Database, partner_id: int, amount: float, when: date) -> SpendCheck:
    """Where the partner's year would stand with ``amount`` (for a warning as the user types)."""
    return check_spend(db, partner_id, amount, when)


def log_touchpoint(db: Database, partner_id: int, fields: Mapping[str, Any] | Touchpoint, *,
                   today: date | None = None,
                   confirm_over_limit: bool = False) -> TouchpointLogged:
    """Validate and store a touchpoint, checking the gift/meal limit first.

    Raises :class:`SpendLimitExceeded` (nothing stored) when the amount takes the year's total
    over the limit and ``confirm_over_limit`` is False."""
    partner = get_partner(db, partner_id)
    tp = fields if isinstance(fields, Touchpoint) else prepare_touchpoint(
        partner_id, fields, today=today)
    with transaction(db):
        # Checked under the write lock, so two faces logging at once cannot both slip under it.
        check = check_spend(db, partner_id, tp.amount, tp.date) if tp.amount else None
        if check is not None and check.status == "over" and not confirm_over_limit:
            raise SpendLimitExceeded(check, partner["name"])
        added = db.execute(INSERT_SQL, row(tp, now_iso())).rowcount > 0
        if added:
            audit.log(db, "add", "touchpoints", partner_id=partner_id, date=tp.date.isoformat(),
                      method=tp.method, amount=tp.amount,
                      over_limit_confirmed=bool(check and check.status == "over"))
    return TouchpointLogged(partner_id, partner["name"], tp, added, check)


@dataclass(frozen=True)
class TouchpointListing:
    id: int
    date: str
    partner: str
    method: str
    who: str | None
    summary: str
    amount: float | None
    next_follow_up: str | None


def list_touchpoints(db: Database, *, partner_id: int | None = None, since: date | None = None,
                     limit: int = 200) -> list[TouchpointListing]:
    """Touchpoints, newest first."""
    where: list[str] = []
    params: list[Any] = []
    if partner_id is not None:
        where.append("t.partner_id = ?")
        params.append(partner_id)
    if since:
        where.append("t.date >= ?")
        params.append(since.isoformat())
    return [TouchpointListing(*r) for r in db.execute(
        "SELECT t.id, t.date, p.name, t.method, t.who, t.summary, t.amount, t.next_follow_up"
        " FROM touchpoints t JOIN partners p ON p.id = t.partner_id"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY t.date DESC, t.id DESC LIMIT ?", [*params, limit])]
