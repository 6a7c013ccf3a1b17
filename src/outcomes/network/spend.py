"""Gifts and meals per physician per calendar year, against the yearly non-monetary limit.

The limit (``spend_limit`` setting) is CMS's non-monetary compensation limit under the physician
self-referral law (42 CFR 411.357(k)); it is adjusted every January. The app sums the ``amount``
of every touchpoint with a partner dated in one calendar year and warns when a new amount would
bring the total near (``spend_warn_fraction`` of the limit) or over it. It applies the limit to
every partner, a conservative reading: the rule names physicians, but a gift to an office is
still a gift to the people who refer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from outcomes.store import settings

# Annotations only: sqlite-utils is imported by whoever opens the connection.
if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass(frozen=True)
class SpendCheck:
    """Where a partner's calendar-year spend stands, before and after a new amount."""

    partner_id: int
    year: int
    before: float
    amount: float
    limit: float
    warn_fraction: float
    limit_year: int | None

    @property
    def after(self) -> float:
        return round(self.before + self.amount, 2)

    @property
    def warn_at(self) -> float:
        return round(self.limit * self.warn_fraction, 2)

    @property
    def status(self) -> str:
        """'over' (crosses the limit), 'near' (at or above the warning level) or 'ok'."""
        if self.after > self.limit:
            return "over"
        if self.after >= self.warn_at:
            return "near"
        return "ok"

    @property
    def stale_limit(self) -> bool:
        """True when the limit setting is for another calendar year than the one checked."""
        return self.limit_year is not None and self.limit_year != self.year

    def message(self, partner: str) -> str:
        text = (f"{partner}: gifts and meals in {self.year} would total ${self.after:,.2f} "
                f"(${self.before:,.2f} so far + ${self.amount:,.2f}) against the yearly "
                f"non-monetary compensation limit of ${self.limit:,.2f}")
        if self.status == "over":
            text += f", ${self.after - self.limit:,.2f} over the limit."
        elif self.status == "near":
            text += f" ({self.after / self.limit:.0%} of it)."
        else:
            text += "."
        if self.stale_limit:
            text += (f" Note: the limit setting is the CY {self.limit_year} figure; check the "
                     f"CMS figure for {self.year} (outcomes settings set spend_limit N).")
        return text

    def as_dict(self) -> dict[str, float | int | str | None]:
        return {"year": self.year, "spent_before": self.before, "amount": self.amount,
                "spent_after": self.after, "limit": self.limit, "warn_at": self.warn_at,
                "limit_year": self.limit_year, "status": self.status}


def year_spend(db: Database, partner_id: int, year: int) -> float:
    """The sum of gift/meal amounts for one partner in one calendar year."""
    row = db.execute(
        "SELECT coalesce(sum(amount), 0) FROM touchpoints WHERE partner_id = ? "
        "AND amount IS NOT NULL AND date >= ? AND date <= ?",
        [partner_id, f"{year:04d}-01-01", f"{year:04d}-12-31"],
    ).fetchone()
    return round(float(row[0]), 2)


def spend_by_partner(db: Database, year: int) -> dict[int, float]:
    """Partner id -> gift/meal total for ``year`` (partners with any amount only)."""
    return {
        int(pid): round(float(total), 2)
        for pid, total in db.execute(
            "SELECT partner_id, sum(amount) FROM touchpoints WHERE amount IS NOT NULL "
            "AND amount > 0 AND date >= ? AND date <= ? GROUP BY partner_id",
            [f"{year:04d}-01-01", f"{year:04d}-12-31"],
        )
    }


def check_spend(db: Database, partner_id: int, amount: float, when: date) -> SpendCheck:
    """Where the partner's spend for ``when``'s calendar year would stand after ``amount``."""
    limit = float(settings.get(db, "spend_limit"))
    fraction = float(settings.get(db, "spend_warn_fraction"))
    limit_year = settings.get(db, "spend_limit_year")
    return SpendCheck(
        partner_id=partner_id, year=when.year, before=year_spend(db, partner_id, when.year),
        amount=round(float(amount), 2), limit=limit, warn_fraction=fraction,
        limit_year=int(limit_year) if limit_year is not None else None,
    )
