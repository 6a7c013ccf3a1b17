"""The partner table and one partner's screen: filtered, sorted and paged in SQL; numbers from
one pass over the monthly roll-ups. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from outcomes.periods import (
    BASELINE_DAYS,
    RECENT_DAYS,
    baseline_window,
    default_period,
    recent_window,
    split_months,
)
from outcomes.reports.rollups import (
    episode_mcid_sql,
    nps_between,
    nps_by_partner,
    referrals_by_partner,
    referrals_per_month,
)
from outcomes.reports.statistics import Nps
from outcomes.store import settings
from outcomes.store.database import like_pattern, row_as_dict

if TYPE_CHECKING:
    from outcomes.reports.scorecard import ConditionFigures, PooledFigures
    from outcomes.store.database import Queryable

PARTNER_SORTS: dict[str, str] = {
    "name": "name (case-insensitive)",
    "kind": "kind, then name",
    "stage": "stage, then name",
    "recent": "referrals in the last 90 days",
    "trend": "last 90 days against the year before",
    "last_touch": "last touch",
    "nps": "NPS (last 12 months)",
    "mcid": "MCID rate (last 12 months)",
}
"""Sort keys for :func:`partners_page` and what each one orders by."""


@dataclass(frozen=True)
class PartnerRow:
    id: int
    name: str
    organization: str | None
    kind: str
    stage: str
    recent: int
    """Referrals in the last 90 days."""
    baseline_per_90: float
    """The 365 days before those 90, scaled to 90 days."""
    last_touch: str | None
    nps: float | None
    nps_n: int
    mcid_rate: float | None
    mcid_n: int
    """Episodes (not scales) referred in the last 12 months whose MCID could be judged."""

    @property
    def trend(self) -> str:
        """An arrow for the table: up/down when the last 90 days differ from the baseline by a
        quarter or more (display only; the alert queue applies the statistical test)."""
        if self.baseline_per_90 == 0:
            return "↑" if self.recent else " "
        ratio = self.recent / self.baseline_per_90
        if ratio >= 1.25:
            return "↑"
        if ratio <= 0.75:
            return "↓"
        return "→"


@dataclass(frozen=True)
class PartnerPage:
    rows: list[PartnerRow]
    matched: int
    """Partners matching the filter."""
    total: int
    """All partners."""
    offset: int
    min_n: int = 5
    """The clinic's small-group limit (setting ``min_n``): rates on fewer patients are not
    shown as numbers."""


@dataclass(frozen=True)
class PartnerStats:
    """One partner's numbers for the table (see :class:`PartnerRow`)."""

    recent: int = 0
    baseline: int = 0
    last_touch: str | None = None
    nps_net: int = 0
    nps_n: int = 0
    mcid_met: int = 0
    mcid_n: int = 0


def partner_stats(db: Queryable, today: date) -> dict[int, PartnerStats]:
    """The numbers of every partner's row, in one pass over the monthly rollups (plus the edge
    days of each window and one streaming scan of ``episode_outcomes`` for per-episode MCID).

    About 0.1 s on 250,000 episodes; a screen computes it once and filters, sorts and pages
    many times (:func:`partners_page` ``stats=``)."""
    window, before, year = recent_window(today), baseline_window(today), default_period(today)
    recent = referrals_by_partner(db, split_months(window.start, window.end))
    baseline = referrals_by_partner(db, split_months(before.start, before.end))
    nps = nps_by_partner(db, split_months(year.start, year.end))
    mcid = {
        int(pid): (int(n), int(met or 0))
        for pid, n, met in db.execute(
            "SELECT partner_id, count(*), sum(met) FROM ("
            + episode_mcid_sql("referral_date BETWEEN ? AND ?", scan=True)
            + ") WHERE partner_id IS NOT NULL GROUP BY partner_id",
            list(year.iso()),
        )
    }
    touches = dict(db.execute(
        "SELECT partner_id, max(date) FROM touchpoints WHERE date <= ? GROUP BY partner_id",
        [today.isoformat()]).fetchall())
    stats = {}
    for (pid,) in db.execute("SELECT id FROM partners"):
        p, _m, d = nps.get(pid, (0, 0, 0))
        n, met = mcid.get(pid, (0, 0))
        stats[pid] = PartnerStats(
            recent=recent.get(pid, 0), baseline=baseline.get(pid, 0),
            last_touch=touches.get(pid), nps_net=p - d, nps_n=sum(nps.get(pid, (0, 0, 0))),
            mcid_met=met, mcid_n=n,
        )
    return stats


def _sort_value(row: PartnerRow, sort: str) -> Any:
    if sort == "name":
        return row.name.casefold()
    if sort in ("kind", "stage"):
        return (getattr(row, sort), row.name.casefold())
    if sort == "trend":
        base = row.baseline_per_90
        return row.recent / base if base else row.recent * 1000.0
    if sort == "mcid":
        return row.mcid_rate
    return getattr(row, sort)


def partners_page(
    db: Queryable,
    today: date,
    *,
    text: str = "",
    sort: str = "name",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
    stats: dict[int, PartnerStats] | None = None,
) -> PartnerPage:
    """One page of the partner table: filtered in SQL (name, organisation, kind, stage, NPI,
    city; every word must match), then sorted and cut to a page.

    The numbers come from ``stats`` (:func:`partner_stats`), computed here when not given.
    Partners without a value (no NPS, never touched) sort last in either direction."""
    if sort not in PARTNER_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    named: dict[str, Any] = {}
    clauses = []
    for i, word in enumerate(text.split()):
        named[f"w{i}"] = like_pattern(word)
        clauses.append(
            "(" + " OR ".join(
                f"coalesce({col}, '') LIKE :w{i} ESCAPE '\\'"
                for col in ("name", "organization", "kind", "stage", "npi", "city")
            ) + ")"
        )
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    if stats is None:
        stats = partner_stats(db, today)
    rows = []
    for pid, name, organization, kind, stage in db.execute(
        f"SELECT id, name, organization, kind, stage FROM partners {where}", named
    ):
        st = stats.get(pid, PartnerStats())
        rows.append(PartnerRow(
            id=pid, name=name, organization=organization, kind=kind, stage=stage,
            recent=st.recent, baseline_per_90=st.baseline * RECENT_DAYS / BASELINE_DAYS,
            last_touch=st.last_touch,
            nps=100.0 * st.nps_net / st.nps_n if st.nps_n else None, nps_n=st.nps_n,
            mcid_rate=st.mcid_met / st.mcid_n if st.mcid_n else None, mcid_n=st.mcid_n,
        ))
    rows.sort(key=lambda r: r.id)
    rows.sort(key=lambda r: _sort_value(r, "name"))
    valued = [r for r in rows if _sort_value(r, sort) is not None]
    valued.sort(key=lambda r: _sort_value(r, sort), reverse=descending)
    ordered = valued + [r for r in rows if _sort_value(r, sort) is None]
    total = int(db.execute("SELECT count(*) FROM partners").fetchone()[0])
    start = max(0, offset)
    return PartnerPage(rows=ordered[start:start + max(1, limit)], matched=len(rows),
                       total=total, offset=start, min_n=int(settings.get(db, "min_n")))


def partner_choices(db: Queryable) -> list[tuple[int, str, str]]:
    """(id, name, stage) of every partner, by name: for pickers."""
    return [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in db.execute("SELECT id, name, stage FROM partners ORDER BY name COLLATE NOCASE")
    ]


@dataclass(frozen=True)
class PartnerDetail:
    partner: dict[str, Any]
    today: date
    per_month: list[tuple[str, int]]
    nps: Nps
    touchpoints: list[dict[str, Any]]
    referrals_in: list[dict[str, Any]]
    referrals_out: list[dict[str, Any]]
    communications: list[dict[str, Any]]
    referrals_in_total: int
    referrals_out_total: int
    min_n: int = 5
    """The clinic's small-group limit: an NPS on fewer answers is not shown as a number."""

    @property
    def nps_text(self) -> str:
        """The NPS as the screen shows it: "—", "n<5" under ``min_n`` answers, or "+55 (n=38)"."""
        if self.nps.n == 0 or self.nps.score is None:
            return "—"
        if self.nps.n < self.min_n:
            return f"n<{self.min_n}"
        return f"{self.nps.score:+.0f} (n={self.nps.n})"


def partner_detail(db: Queryable, partner_id: int, today: date, rows: int = 50) -> PartnerDetail:
    """Everything the partner screen shows: contact, outcomes against the clinic (last 12 months),
    NPS, and the latest touchpoints, referrals and communications (``rows`` of each)."""
    partner = row_as_dict(db, "SELECT * FROM partners WHERE id = ?", [partner_id],
                   f"No partner with id {partner_id}.")
    year = default_period(today)

    def rows_of(sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cursor = db.execute(sql, params)
        cols = [d[0] for d in cursor.description]
        return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]

    return PartnerDetail(
        partner=partner,
        today=today,
        per_month=referrals_per_month(db, today, 24, partner_id),
        nps=nps_between(db, year.start, year.end, partner_id),
        touchpoints=rows_of(
            "SELECT id, date, method, who, summary, amount, next_follow_up FROM touchpoints"
            " WHERE partner_id = ? ORDER BY date DESC, id DESC LIMIT ?", [partner_id, rows]),
        referrals_in=rows_of(
            "SELECT id, referral_date, body_region, diagnosis, status, discharge_date"
            " FROM episodes WHERE partner_id = ? ORDER BY referral_date DESC, id DESC LIMIT ?",
            [partner_id, rows]),
        referrals_out=rows_of(
            "SELECT id, date, episode_id, reason FROM outbound_referrals WHERE partner_id = ?"
            " ORDER BY date DESC, id DESC LIMIT ?", [partner_id, rows]),
        communications=rows_of(
            "SELECT id, date, kind, channel, episode_id, note FROM communications"
            " WHERE partner_id = ? ORDER BY date DESC, id DESC LIMIT ?", [partner_id, rows]),
        referrals_in_total=int(db.execute(
            "SELECT count(*) FROM episodes WHERE partner_id = ?", [partner_id]).fetchone()[0]),
        min_n=int(settings.get(db, "min_n")),
        referrals_out_total=int(db.execute(
            "SELECT count(*) FROM outbound_referrals WHERE partner_id = ?",
            [partner_id]).fetchone()[0]),
    )


@dataclass(frozen=True)
class ConditionRow:
    """One row of the partner screen's "By condition" table."""

    kind: str
    """"condition" or "procedure"."""
    name: str
    mine: PooledFigures
    clinic: PooledFigures | None


@dataclass(frozen=True)
class PartnerConditions:
    """The partner screen's outcomes by condition (the default period: the last 12 months):
    the pooled headline and the partner's condition groups and procedures beside the clinic's.
    Rates rest on at least ``min_n`` patients (None below); counts are the clinic's own."""

    start: date
    end: date
    min_n: int
    mine: ConditionFigures
    clinic: ConditionFigures

    @property
    def rows(self) -> list[ConditionRow]:
        """The partner's groups, then procedures, largest first, each beside the clinic's."""
        out = []
        for kind, mine, clinic in (
                ("condition", self.mine.by_condition, self.clinic.by_condition),
                ("procedure", self.mine.by_procedure, self.clinic.by_procedure)):
            theirs = {c.name: c for c in clinic}
            out += [ConditionRow(kind, m.name, m, theirs.get(m.name)) for m in mine]
        return out

    @property
    def headline(self) -> str:
        """"31 of 38 of your patients reached a clinically important improvement on their
        primary measure (82%, 95% CI 66-91%); clinic 76%." """
        return headline(self.mine.primary, self.clinic.primary, self.min_n)


def headline(mine: PooledFigures, clinic: PooledFigures | None, min_n: int) -> str:
    """The pooled headline sentence from figures already checked against ``min_n``."""
    if mine.n == 0:
        return "None of your patients has intake and discharge scores on a primary measure yet."
    clinic_part = (f"; clinic {round(100 * clinic.mcid_rate)}%"
                   if clinic is not None and clinic.mcid_rate is not None else "")
    if mine.mcid_rate is None or mine.mcid_rate_ci95 is None or mine.reached is None:
        return (f"Results on the primary measure are not shown for fewer than {min_n} "
                f"patients{clinic_part}.")
    lo, hi = mine.mcid_rate_ci95
    return (f"{mine.reached} of {mine.judged} of your patients reached a clinically important "
            f"improvement on their primary measure ({round(100 * mine.mcid_rate)}%, 95% CI "
            f"{round(100 * lo)}-{round(100 * hi)}%){clinic_part}.")


def partner_conditions(db: Queryable, partner_id: int, today: date) -> PartnerConditions:
    """The partner screen's "By condition" block over the last 12 months (one grouped read
    of the primary-measure pairs per call)."""
    from outcomes.reports.scorecard import condition_figures

    year = default_period(today)
    min_n = int(settings.get(db, "min_n"))
    return PartnerConditions(
        year.start, year.end, min_n,
        condition_figures(db, year.start, year.end, min_n=min_n, partner_id=partner_id),
        condition_figures(db, year.start, year.end, min_n=min_n))
