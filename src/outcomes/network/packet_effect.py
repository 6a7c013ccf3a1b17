"""Did the packet help? Referrals from a partner in the ``RECENT_DAYS`` days after each packet
against the same number of days before it, and the mean change over all packets with a paired
95% confidence interval (Student's t on the per-packet differences).

The packet's own day belongs to neither window (a referral that day may have crossed the packet
in the post). A packet whose after-window has not ended yet is listed but left out of the pooled
figure: its "after" count is still growing. Two packets to one partner less than
``RECENT_DAYS`` apart share referrals between their windows, so they are not independent pairs;
the interval is then somewhat too narrow, which the caution says along with the main point:
this shows association, not cause.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlite_utils import Database

from outcomes.periods import RECENT_DAYS
from outcomes.studentt import t_quantile

CAUTION = (
    "This shows association, not cause: referrals after a packet can rise or fall for other "
    "reasons (the season, the partner's own practice, other contact at the same time), and "
    "packets often go to partners whose referrals had just dipped, who tend to drift back "
    "towards their usual level anyway."
)


@dataclass(frozen=True)
class PacketEffect:
    communication_id: int
    partner_id: int
    partner: str
    sent: str
    before: int
    """Referrals in the RECENT_DAYS days before the packet's day."""
    after: int
    """Referrals in the RECENT_DAYS days after it (so far, when not complete)."""
    complete: bool
    """Whether the after-window has ended (only complete packets are pooled)."""

    @property
    def change(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class Pooled:
    packets: int
    """Complete packets pooled."""
    mean_before: float | None
    mean_after: float | None
    mean_change: float | None
    ci95: tuple[float, float] | None
    """Paired 95% CI of the mean change (None with fewer than two packets)."""
    window_days: int
    caution: str

    def as_dict(self) -> dict[str, object]:
        return {"packets": self.packets, "mean_before": self.mean_before,
                "mean_after": self.mean_after, "mean_change": self.mean_change,
                "ci95": None if self.ci95 is None else list(self.ci95),
                "window_days": self.window_days, "caution": self.caution}


def packet_effects(db: Database, today: date, partner_id: int | None = None,
                   ) -> list[PacketEffect]:
    """Every packet sent up to ``today`` (optionally to one partner), oldest first, dated by
    the day it was sent (a packet made and never sent cannot have helped)."""
    days = RECENT_DAYS
    rows = db.execute(
        "WITH sent AS (SELECT id, partner_id, coalesce(sent_date, date) AS day"
        "   FROM communications WHERE kind = 'packet' AND status = 'sent')"
        "SELECT c.id, c.partner_id, p.name, c.day,"
        " (SELECT count(*) FROM episodes e WHERE e.partner_id = c.partner_id"
        "   AND e.referral_date >= date(c.day, ?) AND e.referral_date < c.day),"
        " (SELECT count(*) FROM episodes e WHERE e.partner_id = c.partner_id"
        "   AND e.referral_date > c.day AND e.referral_date <= date(c.day, ?)"
        "   AND e.referral_date <= ?)"
        " FROM sent c JOIN partners p ON p.id = c.partner_id"
        " WHERE c.day <= ? AND (? IS NULL OR c.partner_id = ?)"
        " ORDER BY c.day, c.id",
        [f"-{days} days", f"+{days} days", today.isoformat(), today.isoformat(),
         partner_id, partner_id],
    ).fetchall()
    return [
        PacketEffect(cid, pid, name, sent[:10], before, after,
                     date.fromisoformat(sent[:10]) + timedelta(days=days) <= today)
        for cid, pid, name, sent, before, after in rows
    ]


def pooled(effects: Sequence[PacketEffect]) -> Pooled:
    """The mean change over the complete packets, with a paired 95% CI."""
    done = [e for e in effects if e.complete]
    n = len(done)
    if n == 0:
        return Pooled(0, None, None, None, None, RECENT_DAYS, CAUTION)
    before = sum(e.before for e in done) / n
    after = sum(e.after for e in done) / n
    diffs = [e.change for e in done]
    mean = sum(diffs) / n
    ci = None
    if n >= 2:
        sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
        half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
        ci = (mean - half, mean + half)
    return Pooled(n, before, after, mean, ci, RECENT_DAYS, CAUTION)


__all__ = ["CAUTION", "PacketEffect", "Pooled", "packet_effects", "pooled"]
