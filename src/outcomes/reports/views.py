"""Read-only queries that feed the dashboard's screens.

Pure and typed: each function takes the database and an explicit ``today`` (or period) and
returns plain dataclasses. Only ``execute`` is used, so a plain ``sqlite3`` connection serves as
well as a sqlite-utils ``Database`` (the dashboard reads through plain connections, so its first
screen never waits for sqlite-utils to import). Nothing here writes, and nothing here knows about
Textual. Lists that can grow are filtered in SQL and cut to a page, so a screen never shows more
than one page; sums over months read the monthly rollup tables (schema migration 0003).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from outcomes import vocab
from outcomes.errors import NotFound
from outcomes.reports.statistics import Nps

if TYPE_CHECKING:
    # Typing only: importing sqlite_utils costs ~0.1-0.2 s (it pulls in numpy when present), and
    # the dashboard's first screen reads through a plain sqlite3 connection.
    from sqlite_utils import Database

RECENT_DAYS = 90
BASELINE_DAYS = 365
OUTCOME_WINDOW_DAYS = 365


# --- months ------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def month_keys(today: date, months: int) -> list[str]:
    """'YYYY-MM' for the ``months`` months ending with today's month, oldest first."""
    first = add_months(today, -(months - 1))
    return [add_months(first, i).strftime("%Y-%m") for i in range(months)]


def month_end(day: date) -> date:
    return add_months(day, 1) - timedelta(days=1)


@dataclass(frozen=True)
class Split:
    """A date range [first, last] cut into whole calendar months (read from the monthly rollup
    tables) and the days left over at either edge (read from the raw rows)."""

    months: tuple[str, str] | None
    """First and last whole month, 'YYYY-MM', or None when no whole month fits."""
    edges: list[tuple[str, str]]
    """Inclusive ISO day ranges outside the whole months."""

    def edge_sql(self, column: str) -> tuple[str, list[str]]:
        """``(column BETWEEN ? AND ?) OR ...`` for the edges ("0" when there are none)."""
        if not self.edges:
            return "0", []
        sql = " OR ".join(f"{column} BETWEEN ? AND ?" for _ in self.edges)
        return f"({sql})", [d for edge in self.edges for d in edge]

    def month_params(self) -> list[str]:
        return list(self.months) if self.months else ["", ""]


def split_months(first: date, last: date) -> Split:
    """Cut [first, last] (inclusive) into whole months and edge days."""
    if first > last:
        return Split(None, [])
    whole_first = first if first.day == 1 else add_months(first, 1)
    whole_last = last if last == month_end(last) else month_start(last) - timedelta(days=1)
    if whole_first > whole_last:
        return Split(None, [(first.isoformat(), last.isoformat())])
    edges = []
    if first < whole_first:
        edges.append((first.isoformat(), (whole_first - timedelta(days=1)).isoformat()))
    if whole_last < last:
        edges.append(((whole_last + timedelta(days=1)).isoformat(), last.isoformat()))
    return Split((whole_first.strftime("%Y-%m"), whole_last.strftime("%Y-%m")), edges)


def _partner_filter(partner_id: int | None, column: str) -> tuple[str, list[Any]]:
    return ("", []) if partner_id is None else (f" AND {column} = ?", [partner_id])


def referrals_per_month(
    db: Database, today: date, months: int = 24, partner_id: int | None = None
) -> list[tuple[str, int]]:
    """Inbound referrals per calendar month, zero-filled, oldest first, up to ``today``.

    Whole months come from ``roll_episodes``; today's month is counted from the episodes."""
    keys = month_keys(today, months)
    roll_where, roll_params = _partner_filter(partner_id, "partner_key")
    counts = {
        k: int(n)
        for k, n in db.execute(
            "SELECT month, sum(n) FROM roll_episodes WHERE month >= ? AND month < ?"
            f"{roll_where} GROUP BY month",
            [keys[0], keys[-1], *roll_params],
        )
    }
    where, params = _partner_filter(partner_id, "partner_id")
    counts[keys[-1]] = int(db.execute(
        f"SELECT count(*) FROM episodes WHERE referral_date BETWEEN ? AND ?{where}",
        [f"{keys[-1]}-01", today.isoformat(), *params],
    ).fetchone()[0])
    return [(k, counts.get(k, 0)) for k in keys]


# --- dashboard ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A share with its denominator (``rate`` is None when n is 0)."""

    met: int
    n: int

    @property
    def rate(self) -> float | None:
        return self.met / self.n if self.n else None


@dataclass(frozen=True)
class DashboardSummary:
    today: date
    month_to_date: int
    """Referrals from the 1st of this month to today."""
    last_month_same_days: int
    """Referrals in the same days (1st to today's day) of last month."""
    last_month_total: int
    year_ago_same_days: int
    """Referrals in the same days of the same month a year ago."""
    year_ago_total: int
    active_partners: int
    """Partners with at least one referral in the last 90 days."""
    partners_total: int
    mcid: Rate | None
    """Episodes referred in the last 12 months whose MCID could be judged, and how many reached
    it (see :func:`clinic_mcid`); None when not asked for (``with_mcid=False``)."""
    nps: Nps
    """NPS answers dated in the last 12 months."""
    per_month: list[tuple[str, int]] = field(default_factory=list)


def _count_referrals(db: Database, start: date, end: date) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM episodes WHERE referral_date >= ? AND referral_date <= ?",
            [start.isoformat(), end.isoformat()],
        ).fetchone()[0]
    )


def _same_day(month_first: date, day: int) -> date:
    """``day`` in the month starting ``month_first``, clamped to the month's last day."""
    last = add_months(month_first, 1) - timedelta(days=1)
    return month_first.replace(day=min(day, last.day))


def episode_mcid_sql(where: str, *, scan: bool) -> str:
    """Per-episode MCID: one row per episode with a judged score on at least one scale, met
    when any of its scales reached the MCID. An episode measured on several scales (PROMIS-10's
    two, or a region measure plus NPRS) counts once.

    ``scan`` reads the table in primary-key order (episode, scale), so the grouping streams
    without a sort: ~3x faster than the date index when the window holds much of the table."""
    table = "episode_outcomes NOT INDEXED" if scan else "episode_outcomes"
    return (
        "SELECT episode_id, partner_id, max(mcid_met) AS met FROM "
        f"{table} WHERE mcid_met IS NOT NULL AND {where} GROUP BY episode_id"
    )


def clinic_mcid(db: Database, start: date, end: date, partner_id: int | None = None) -> Rate:
    """Episodes referred in [start, end] whose MCID could be judged, and how many reached it
    (on any of their scales); n counts episodes, not scales."""
    where = "referral_date >= ? AND referral_date <= ?"
    params: list[Any] = [start.isoformat(), end.isoformat()]
    if partner_id is not None:
        where += " AND partner_id = ?"
        params.append(partner_id)
    row = db.execute(
        "SELECT count(*), coalesce(sum(met), 0) FROM ("
        + episode_mcid_sql(where, scan=partner_id is None) + ")",
        params,
    ).fetchone()
    return Rate(met=int(row[1]), n=int(row[0]))


def _nps_by_partner(db: Database, first: date, last: date) -> dict[int, tuple[int, int, int]]:
    """partner_key (0 = no partner) -> (promoters, passives, detractors) for answers dated in
    [first, last]: whole months from ``roll_nps``, edge days from the answers."""
    split = split_months(first, last)
    edge, edge_params = split.edge_sql("n.date")
    totals: dict[int, list[int]] = {}
    rows = db.execute(
        "SELECT partner_key, sum(promoters), sum(passives), sum(detractors) FROM roll_nps"
        " WHERE month BETWEEN ? AND ? GROUP BY partner_key"
        " UNION ALL SELECT coalesce(e.partner_id, 0), sum(n.score >= 9),"
        " sum(n.score BETWEEN 7 AND 8), sum(n.score <= 6) FROM nps_responses n"
        f" LEFT JOIN episodes e ON e.id = n.episode_id WHERE {edge}"
        " GROUP BY coalesce(e.partner_id, 0)",
        [*split.month_params(), *edge_params],
    )
    for key, p, m, d in rows:
        t = totals.setdefault(int(key), [0, 0, 0])
        t[0] += int(p or 0)
        t[1] += int(m or 0)
        t[2] += int(d or 0)
    return {k: (v[0], v[1], v[2]) for k, v in totals.items()}


def nps_between(db: Database, start: date, end: date, partner_id: int | None = None) -> Nps:
    """NPS of the answers dated in [start, end] (all, or those of one partner's episodes)."""
    split = split_months(start, end)
    edge, edge_params = split.edge_sql("n.date")
    if partner_id is None:
        sql = (
            "SELECT sum(promoters), sum(passives), sum(detractors) FROM roll_nps"
            " WHERE month BETWEEN ? AND ? UNION ALL SELECT sum(n.score >= 9),"
            f" sum(n.score BETWEEN 7 AND 8), sum(n.score <= 6) FROM nps_responses n WHERE {edge}"
        )
        params: list[Any] = [*split.month_params(), *edge_params]
    else:
        sql = (
            "SELECT sum(promoters), sum(passives), sum(detractors) FROM roll_nps"
            " WHERE month BETWEEN ? AND ? AND partner_key = ? UNION ALL SELECT sum(n.score >= 9),"
            " sum(n.score BETWEEN 7 AND 8), sum(n.score <= 6) FROM nps_responses n"
            # CROSS JOIN keeps SQLite reading the few edge days first; otherwise it walks every
            # episode of a busy partner (120 ms instead of 1 ms on 36,000 referrals).
            f" CROSS JOIN episodes e ON e.id = n.episode_id WHERE e.partner_id = ? AND {edge}"
        )
        params = [*split.month_params(), partner_id, partner_id, *edge_params]
    p = m = d = 0
    for a_, b_, c_ in db.execute(sql, params):
        p, m, d = p + int(a_ or 0), m + int(b_ or 0), d + int(c_ or 0)
    return Nps(promoters=p, passives=m, detractors=d)


def active_partners(db: Database, first: date, last: date) -> int:
    """Partners with at least one referral dated in [first, last]."""
    split = split_months(first, last)
    edge, edge_params = split.edge_sql("referral_date")
    return int(db.execute(
        "SELECT count(*) FROM (SELECT partner_key FROM roll_episodes WHERE month BETWEEN ? AND ?"
        " AND partner_key != 0 AND n > 0 UNION SELECT partner_id FROM episodes"
        f" WHERE partner_id IS NOT NULL AND {edge})",
        [*split.month_params(), *edge_params],
    ).fetchone()[0])


def dashboard_mcid(db: Database, today: date) -> Rate:
    """The dashboard's MCID rate: episodes referred in the last 12 months (the slowest number of
    the summary, ~60 ms on 250,000 episodes, so the dashboard reads it on a second thread)."""
    return clinic_mcid(db, today - timedelta(days=OUTCOME_WINDOW_DAYS), today)


def dashboard_summary(db: Database, today: date, *, with_mcid: bool = True) -> DashboardSummary:
    """The numbers at the top of the dashboard, all relative to ``today``."""
    this_month = month_start(today)
    last_month = add_months(today, -1)
    year_ago = add_months(today, -12)
    year_start = today - timedelta(days=OUTCOME_WINDOW_DAYS)
    active = active_partners(db, today - timedelta(days=RECENT_DAYS - 1), today)
    return DashboardSummary(
        today=today,
        month_to_date=_count_referrals(db, this_month, today),
        last_month_same_days=_count_referrals(db, last_month, _same_day(last_month, today.day)),
        last_month_total=_count_referrals(db, last_month, this_month - timedelta(days=1)),
        year_ago_same_days=_count_referrals(db, year_ago, _same_day(year_ago, today.day)),
        year_ago_total=_count_referrals(
            db, year_ago, add_months(year_ago, 1) - timedelta(days=1)
        ),
        active_partners=int(active),
        partners_total=int(db.execute("SELECT count(*) FROM partners").fetchone()[0]),
        mcid=dashboard_mcid(db, today) if with_mcid else None,
        nps=nps_between(db, year_start, today),
        per_month=referrals_per_month(db, today, 24),
    )


# --- partners -----------------------------------------------------------------------------------

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


def _one(db: Database, sql: str, params: list[Any], missing: str) -> dict[str, Any]:
    """The one row of ``sql`` as a dict, or NotFound with ``missing`` as its message."""
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        raise NotFound(missing)
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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


def _referrals_by_partner(db: Database, first: date, last: date) -> dict[int, int]:
    """partner_key -> referrals dated in [first, last] (whole months from the rollup)."""
    split = split_months(first, last)
    edge, edge_params = split.edge_sql("referral_date")
    counts: dict[int, int] = {}
    for key, n in db.execute(
        "SELECT partner_key, sum(n) FROM roll_episodes WHERE month BETWEEN ? AND ?"
        " GROUP BY partner_key UNION ALL SELECT coalesce(partner_id, 0), count(*) FROM episodes"
        f" WHERE {edge} GROUP BY coalesce(partner_id, 0)",
        [*split.month_params(), *edge_params],
    ):
        counts[int(key)] = counts.get(int(key), 0) + int(n or 0)
    return counts


def partner_stats(db: Database, today: date) -> dict[int, PartnerStats]:
    """The numbers of every partner's row, in one pass over the monthly rollups (plus the edge
    days of each window and one streaming scan of ``episode_outcomes`` for per-episode MCID).

    About 0.1 s on 250,000 episodes; a screen computes it once and filters, sorts and pages
    many times (:func:`partners_page` ``stats=``)."""
    recent_first = today - timedelta(days=RECENT_DAYS - 1)
    recent = _referrals_by_partner(db, recent_first, today)
    baseline = _referrals_by_partner(
        db, recent_first - timedelta(days=BASELINE_DAYS), recent_first - timedelta(days=1))
    year_first = today - timedelta(days=OUTCOME_WINDOW_DAYS - 1)
    nps = _nps_by_partner(db, year_first, today)
    mcid = {
        int(pid): (int(n), int(met or 0))
        for pid, n, met in db.execute(
            "SELECT partner_id, count(*), sum(met) FROM ("
            + episode_mcid_sql("referral_date BETWEEN ? AND ?", scan=True)
            + ") WHERE partner_id IS NOT NULL GROUP BY partner_id",
            [year_first.isoformat(), today.isoformat()],
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
    db: Database,
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
        named[f"w{i}"] = _like(word)
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
                       total=total, offset=start)


def partner_choices(db: Database) -> list[tuple[int, str, str]]:
    """(id, name, stage) of every partner, by name: for pickers."""
    return [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in db.execute("SELECT id, name, stage FROM partners ORDER BY name COLLATE NOCASE")
    ]


@dataclass(frozen=True)
class ScaleOutcome:
    scale: str
    instrument: str
    n: int
    mean_improvement: float | None
    mcid: Rate
    clinic_n: int
    clinic_mean_improvement: float | None
    clinic_mcid: Rate


@dataclass(frozen=True)
class PartnerDetail:
    partner: dict[str, Any]
    today: date
    per_month: list[tuple[str, int]]
    outcomes: list[ScaleOutcome]
    nps: Nps
    touchpoints: list[dict[str, Any]]
    referrals_in: list[dict[str, Any]]
    referrals_out: list[dict[str, Any]]
    communications: list[dict[str, Any]]
    referrals_in_total: int
    referrals_out_total: int


def _outcomes_by_scale(
    db: Database, start: date, end: date, partner_id: int | None
) -> dict[str, tuple[str, int, float | None, int, int]]:
    """scale -> (instrument, n, mean improvement, MCID met, MCID judged) for episodes referred
    in (start, end]: whole months from ``roll_outcomes``, edge days from ``episode_outcomes``."""
    split = split_months(start + timedelta(days=1), end)
    edge, edge_params = split.edge_sql("referral_date")
    roll_where, roll_params = _partner_filter(partner_id, "partner_key")
    where, params = _partner_filter(partner_id, "partner_id")
    totals: dict[str, list[Any]] = {}
    for scale, instrument, n, s_improvement, met, judged in db.execute(
        "SELECT scale, instrument, sum(n), sum(s_improvement), sum(met), sum(judged)"
        f" FROM roll_outcomes WHERE month BETWEEN ? AND ?{roll_where} GROUP BY scale, instrument"
        " UNION ALL SELECT scale, instrument, count(*), sum(coalesce(improvement, 0)),"
        " sum(coalesce(mcid_met, 0)), sum(mcid_met IS NOT NULL) FROM episode_outcomes"
        " WHERE intake_score IS NOT NULL AND final_score IS NOT NULL"
        f" AND {edge}{where} GROUP BY scale, instrument",
        [*split.month_params(), *roll_params, *edge_params, *params],
    ):
        t = totals.setdefault(scale, [instrument, 0, 0.0, 0, 0])
        t[1] += int(n or 0)
        t[2] += float(s_improvement or 0.0)
        t[3] += int(met or 0)
        t[4] += int(judged or 0)
    return {
        scale: (t[0], t[1], t[2] / t[1] if t[1] else None, t[3], t[4])
        for scale, t in totals.items() if t[1] > 0
    }


def partner_detail(db: Database, partner_id: int, today: date, rows: int = 50) -> PartnerDetail:
    """Everything the partner screen shows: contact, outcomes against the clinic (last 12 months),
    NPS, and the latest touchpoints, referrals and communications (``rows`` of each)."""
    partner = _one(db, "SELECT * FROM partners WHERE id = ?", [partner_id],
                   f"No partner with id {partner_id}.")
    start = today - timedelta(days=OUTCOME_WINDOW_DAYS)
    mine = _outcomes_by_scale(db, start, today, partner_id)
    clinic = _outcomes_by_scale(db, start, today, None)
    outcomes = []
    for scale, (instrument, n, mean, met, judged) in sorted(mine.items()):
        c = clinic.get(scale, (instrument, 0, None, 0, 0))
        outcomes.append(ScaleOutcome(
            scale, instrument, n, mean, Rate(met, judged), c[1], c[2], Rate(c[3], c[4])))

    def rows_of(sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cursor = db.execute(sql, params)
        cols = [d[0] for d in cursor.description]
        return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]

    return PartnerDetail(
        partner=partner,
        today=today,
        per_month=referrals_per_month(db, today, 24, partner_id),
        outcomes=outcomes,
        nps=nps_between(db, start, today, partner_id),
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
        referrals_out_total=int(db.execute(
            "SELECT count(*) FROM outbound_referrals WHERE partner_id = ?",
            [partner_id]).fetchone()[0]),
    )


# --- episodes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeRow:
    id: str
    record_number: str
    patient: str | None
    referral_date: str
    partner: str | None
    body_region: str
    status: str
    instrument: str | None


FIND_PATIENTS_MAX = 2000
"""Above this many matching patients, episodes are read newest first and filtered instead."""

_EPISODE_COLUMNS = (
    "SELECT e.id, pt.record_number, pt.name, e.referral_date, pa.name, e.body_region,"
    " e.status, e.instrument FROM episodes e JOIN patients pt ON pt.id = e.patient_id"
    " LEFT JOIN partners pa ON pa.id = e.partner_id"
)


def _glob_prefix(text: str) -> str:
    """A GLOB pattern matching values that start with ``text`` literally (indexable)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text) + "*"


def find_episodes(db: Database, text: str = "", limit: int = 50) -> list[EpisodeRow]:
    """Episodes of patients whose record number or name contains every word of ``text``, or whose
    episode id starts with it, newest referral first (at most ``limit``).

    Fast on a big clinic: the patients are matched first (one pass over the patients table),
    then their episodes are read through the patient index; episode ids are matched on the
    primary key. When very many patients match, episodes are read newest first instead and the
    first ``limit`` that match are kept."""
    limit = max(1, limit)
    order = " ORDER BY e.referral_date DESC, e.id DESC LIMIT ?"
    words = text.split()
    if not words:
        return [EpisodeRow(*r) for r in db.execute(_EPISODE_COLUMNS + order, [limit])]
    clauses = " AND ".join(
        "(record_number LIKE ? ESCAPE '\\' OR coalesce(name, '') LIKE ? ESCAPE '\\')"
        for _ in words)
    params = [p for w in words for p in (_like(w), _like(w))]
    patient_sql = f"SELECT id FROM patients WHERE {clauses}"
    ids = [r[0] for r in db.execute(f"{patient_sql} LIMIT ?",
                                    [*params, FIND_PATIENTS_MAX + 1])]
    by_id = ""
    id_params: list[Any] = []
    if len(words) == 1:
        # Episode ids are usually typed from their start: match a prefix on the primary key, as
        # typed and upper-cased ("e0001" finds E0001).
        by_id = " OR e.id GLOB ? OR e.id GLOB ?"
        id_params = [_glob_prefix(words[0]), _glob_prefix(words[0].upper())]
    if len(ids) > FIND_PATIENTS_MAX:
        # Many match: walking the episodes newest first finds ``limit`` of them at once.
        pt_clauses = clauses.replace("record_number", "pt.record_number").replace(
            "coalesce(name", "coalesce(pt.name")
        sql = f"{_EPISODE_COLUMNS} WHERE ({pt_clauses}){by_id}{order}"
        return [EpisodeRow(*r) for r in db.execute(sql, [*params, *id_params, limit])]
    sql = (f"{_EPISODE_COLUMNS} WHERE e.patient_id IN (SELECT value FROM json_each(?))"
           f"{by_id}{order}")
    return [EpisodeRow(*r) for r in db.execute(sql, [json.dumps(ids), *id_params, limit])]


@dataclass(frozen=True)
class ResponseRow:
    id: int
    instrument: str
    timepoint: str
    date: str
    scores: dict[str, float | None]
    scorable: bool
    reason: str | None
    answers: list[int | None] | None


@dataclass(frozen=True)
class EpisodeDetail:
    episode: dict[str, Any]
    record_number: str
    patient: str | None
    partner: str | None
    responses: list[ResponseRow]
    nps: list[dict[str, Any]]
    letters: list[dict[str, Any]]

    def trajectory(self, scale: str) -> list[tuple[str, float]]:
        """(date, score) of every scored response on ``scale``, in date order."""
        return [
            (r.date, float(v))
            for r in sorted(self.responses, key=lambda r: (r.date, r.id))
            if (v := r.scores.get(scale)) is not None
        ]

    def scales(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.responses:
            for s, v in r.scores.items():
                if v is not None:
                    seen[s] = None
        return list(seen)


def episode_detail(db: Database, episode_id: str) -> EpisodeDetail:
    episode = _one(db, "SELECT * FROM episodes WHERE id = ?", [episode_id],
                   f"No episode with id {episode_id!r}.")
    pt = db.execute(
        "SELECT record_number, name FROM patients WHERE id = ?", [episode["patient_id"]]
    ).fetchone()
    partner = None
    if episode["partner_id"] is not None:
        row = db.execute("SELECT name FROM partners WHERE id = ?", [episode["partner_id"]])
        partner = row.fetchone()[0]
    responses = [
        ResponseRow(
            id=r[0], instrument=r[1], timepoint=r[2], date=r[3], scores=json.loads(r[4]),
            scorable=bool(r[5]), reason=r[6], answers=json.loads(r[7]) if r[7] else None,
        )
        for r in db.execute(
            "SELECT id, instrument, timepoint, date, scores, scorable, reason, answers"
            " FROM responses WHERE episode_id = ? ORDER BY date, id", [episode_id])
    ]
    nps = [
        {"date": r[0], "score": r[1], "comment": r[2]}
        for r in db.execute(
            "SELECT date, score, comment FROM nps_responses WHERE episode_id = ? ORDER BY date",
            [episode_id])
    ]
    letters = [
        {"date": r[0], "kind": r[1], "channel": r[2], "partner": r[3], "note": r[4]}
        for r in db.execute(
            "SELECT c.date, c.kind, c.channel, p.name, c.note FROM communications c"
            " JOIN partners p ON p.id = c.partner_id WHERE c.episode_id = ? ORDER BY c.date",
            [episode_id])
    ]
    return EpisodeDetail(
        episode=episode, record_number=pt[0], patient=pt[1], partner=partner,
        responses=responses, nps=nps, letters=letters,
    )


def next_timepoint(detail: EpisodeDetail, instrument: str) -> str:
    """The timepoint a new response most likely is: intake first; after a discharge response,
    follow-up; discharge once the episode is discharged; otherwise progress."""
    taken = {r.timepoint for r in detail.responses if r.instrument == instrument}
    if "intake" not in taken:
        return "intake"
    if "discharge" in taken:
        return "follow_up"
    if detail.episode.get("status") == "discharged":
        return "discharge"
    return "progress"


def default_instrument(detail: EpisodeDetail, region_default: dict[str, str]) -> str | None:
    """The episode's own instrument, else the one its responses use, else the region's usual one."""
    if detail.episode.get("instrument"):
        return str(detail.episode["instrument"])
    for r in detail.responses:
        return r.instrument
    return region_default.get(str(detail.episode.get("body_region")))


REGION_INSTRUMENT = vocab.DEFAULT_INSTRUMENT_BY_REGION

SHORT_LABELS = {
    "gph": "PROMIS-10 physical",
    "gmh": "PROMIS-10 mental",
    "quickdash_sports": "QuickDASH sports",
    "quickdash_work": "QuickDASH work",
}
"""Scales whose own name is too long for a table cell."""


def short_label(name: str, scale_id: str) -> str:
    """A scale's name as a table reads it: "ODI" for odi, "NDI" for "NDI (%)"."""
    if scale_id in SHORT_LABELS:
        return SHORT_LABELS[scale_id]
    plain = name.split(" (")[0].strip()
    return plain if 0 < len(plain) <= 18 else scale_id.upper()


def scale_labels() -> dict[str, str]:
    """Scale id -> short label for every scale (and instrument id) in the catalog. Loads the
    survey definitions (pydantic), so call it from a worker."""
    from outcomes.measures import catalog

    labels: dict[str, str] = {}
    for instrument in catalog.instruments().values():
        for scale_id, scale in instrument.scales.items():
            labels[scale_id] = short_label(scale.name, scale_id)
        if instrument.id not in labels:
            labels[instrument.id] = (
                "PROMIS-10" if instrument.id == "promis10"
                else short_label(instrument.name, instrument.id))
    return labels


__all__ = [
    "PARTNER_SORTS",
    "REGION_INSTRUMENT",
    "DashboardSummary",
    "EpisodeDetail",
    "EpisodeRow",
    "PartnerDetail",
    "PartnerPage",
    "PartnerRow",
    "Rate",
    "ResponseRow",
    "ScaleOutcome",
    "add_months",
    "clinic_mcid",
    "dashboard_mcid",
    "dashboard_summary",
    "default_instrument",
    "episode_detail",
    "find_episodes",
    "month_keys",
    "next_timepoint",
    "nps_between",
    "partner_choices",
    "partner_detail",
    "partners_page",
    "referrals_per_month",
    "scale_labels",
    "short_label",
]
