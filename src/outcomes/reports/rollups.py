"""The one reader of the monthly roll-ups (``roll_*`` tables, schema migration 0003).

A period is cut into whole calendar months, read from the roll-ups, and the days left at either
edge, read from the raw rows (``outcomes.periods.split_months``). Every report that sums over
months (the scorecard, the dashboard, the partner table) reads through these functions, so the
rules of the split and of the raw-row equivalents live in one place. Each reader takes a
``Split``; ``periods.whole_days`` reads raw rows only, the reference the roll-ups are tested
against.

Only ``execute`` is used: a plain ``sqlite3`` connection serves as well as a sqlite-utils
``Database`` (the dashboard's first screen reads through plain connections).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from outcomes.measures.nps import counts_sql
from outcomes.network.frontdesk import NO_REASON, Funnel
from outcomes.periods import Split, month_keys, split_months
from outcomes.reports.statistics import Nps
from outcomes.store.funnel_rules import FUNNEL_STAGES, UNSCHEDULED_REASON, funnel_stage_sql

if TYPE_CHECKING:
    from outcomes.store.database import Queryable

NO_PARTNER = 0
"""The roll-ups' partner key of self-referred episodes and answers without an episode."""


def _partner_filter(partner_id: int | None, column: str) -> tuple[str, list[Any]]:
    return ("", []) if partner_id is None else (f" AND {column} = ?", [partner_id])


def referrals_per_month(
    db: Queryable, today: date, months: int = 24, partner_id: int | None = None
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


def referrals_by_partner(db: Queryable, split: Split) -> dict[int, int]:
    """partner key -> referrals dated in the split period."""
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


def episode_counts(db: Queryable, split: Split) -> dict[int, tuple[int, int, int]]:
    """partner key -> (referrals, evaluated, discharged) for episodes referred in the period."""
    edge, edge_params = split.edge_sql("referral_date")
    totals: dict[int, list[int]] = {}
    for key, n, evaluated, discharged in db.execute(
        "SELECT partner_key, sum(n), sum(evaluated), sum(discharged) FROM roll_episodes"
        " WHERE month BETWEEN ? AND ? GROUP BY 1 UNION ALL"
        " SELECT coalesce(partner_id, 0), count(*), sum(first_visit_date IS NOT NULL),"
        f" sum(status = 'discharged') FROM episodes WHERE {edge} GROUP BY 1",
        [*split.month_params(), *edge_params],
    ):
        t = totals.setdefault(int(key), [0, 0, 0])
        t[0] += int(n or 0)
        t[1] += int(evaluated or 0)
        t[2] += int(discharged or 0)
    return {k: (v[0], v[1], v[2]) for k, v in totals.items() if v[0]}


_DISTRIBUTIONS = {
    "visits": ("roll_visits", "visits", "status = 'discharged' AND visits IS NOT NULL"),
    "days": ("roll_days",
             "CAST(julianday(first_visit_date) - julianday(referral_date) AS INTEGER)",
             "first_visit_date IS NOT NULL"),
}


def distribution(db: Queryable, what: str, split: Split) -> dict[int, dict[float, int]]:
    """partner key -> {value: episodes} of visits per discharged episode (``what="visits"``)
    or days from referral to the first visit (``"days"``), for episodes referred in the
    period."""
    table, raw, condition = _DISTRIBUTIONS[what]
    edge, edge_params = split.edge_sql("referral_date")
    column = "visits" if what == "visits" else "days"
    out: dict[int, dict[float, int]] = {}
    for key, value, n in db.execute(
        f"SELECT partner_key, {column}, sum(n) FROM {table} WHERE month BETWEEN ? AND ?"
        " GROUP BY 1, 2 UNION ALL"
        f" SELECT coalesce(partner_id, 0), {raw}, count(*) FROM episodes WHERE {condition}"
        f" AND {edge} GROUP BY 1, 2",
        [*split.month_params(), *edge_params],
    ):
        if n:
            bucket = out.setdefault(int(key), {})
            bucket[value] = bucket.get(value, 0) + int(n)
    return out


def outcome_sums(db: Queryable, split: Split) -> list[tuple[Any, ...]]:
    """(partner key, scale, instrument, carried forward, n, sum intake, sum final, sum
    improvement, MCID met, MCID judged) per group, for episodes referred in the period with an
    intake and a final score (one row per source: add them up)."""
    edge, edge_params = split.edge_sql("referral_date")
    return db.execute(
        "SELECT partner_key, scale, instrument, carried_forward, sum(n), sum(s_intake),"
        " sum(s_final), sum(s_improvement), sum(met), sum(judged) FROM roll_outcomes"
        " WHERE month BETWEEN ? AND ? GROUP BY 1, 2, 3, 4 UNION ALL"
        " SELECT coalesce(partner_id, 0), scale, instrument, carried_forward, count(*),"
        " total(intake_score), total(final_score), total(improvement), total(mcid_met),"
        " count(mcid_met) FROM episode_outcomes WHERE intake_score IS NOT NULL"
        f" AND final_score IS NOT NULL AND {edge} GROUP BY 1, 2, 3, 4",
        [*split.month_params(), *edge_params],
    ).fetchall()


def funnels(db: Queryable, split: Split) -> dict[int | None, Funnel]:
    """Per partner (None: self-referred), the referral funnel of the episodes referred in the
    period: whole months from ``roll_funnel`` and ``roll_unscheduled``, edge days from the
    episodes, by the same stage rules (``store.funnel_rules``)."""
    edge, edge_params = split.edge_sql("referral_date")
    names = [name for name, _ in FUNNEL_STAGES]
    sums = ", ".join(f"sum({name})" for name in names)
    out: dict[int | None, Funnel] = {}
    for key, *stages in db.execute(
        f"SELECT partner_key, {sums} FROM (SELECT partner_key, {', '.join(names)}"
        " FROM roll_funnel WHERE month BETWEEN ? AND ? UNION ALL"
        f" SELECT coalesce(partner_id, 0), {', '.join(funnel_stage_sql())} FROM episodes"
        f" WHERE {edge}) GROUP BY partner_key HAVING sum(received) > 0",
        [*split.month_params(), *edge_params],
    ):
        out[key or None] = Funnel(*stages)
    for key, reason, n in db.execute(
        "SELECT partner_key, CASE reason WHEN '' THEN ? ELSE reason END, sum(n)"
        " FROM (SELECT partner_key, reason, n FROM roll_unscheduled WHERE month BETWEEN ? AND ?"
        f" UNION ALL SELECT coalesce(partner_id, 0), {UNSCHEDULED_REASON.format(r='')}, 1"
        f" FROM episodes WHERE status = 'not_scheduled' AND {edge})"
        " GROUP BY 1, 2 HAVING sum(n) > 0 ORDER BY 1, 3 DESC, 2",
        [NO_REASON, *split.month_params(), *edge_params],
    ):
        out[key or None].not_scheduled[reason] = n
    return out


def nps_by_partner(db: Queryable, split: Split) -> dict[int, tuple[int, int, int]]:
    """partner_key (0 = no partner) -> (promoters, passives, detractors) for answers dated in
    in the period: whole months from ``roll_nps``, edge days from the answers."""
    edge, edge_params = split.edge_sql("n.date")
    totals: dict[int, list[int]] = {}
    rows = db.execute(
        "SELECT partner_key, sum(promoters), sum(passives), sum(detractors) FROM roll_nps"
        " WHERE month BETWEEN ? AND ? GROUP BY partner_key"
        " UNION ALL SELECT coalesce(e.partner_id, 0), " + counts_sql("n.score")
        + " FROM nps_responses n"
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


def nps_between(db: Queryable, start: date, end: date, partner_id: int | None = None) -> Nps:
    """NPS of the answers dated in [start, end] (all, or those of one partner's episodes)."""
    split = split_months(start, end)
    edge, edge_params = split.edge_sql("n.date")
    if partner_id is None:
        sql = (
            "SELECT sum(promoters), sum(passives), sum(detractors) FROM roll_nps"
            " WHERE month BETWEEN ? AND ? UNION ALL SELECT " + counts_sql("n.score")
            + f" FROM nps_responses n WHERE {edge}"
        )
        params: list[Any] = [*split.month_params(), *edge_params]
    else:
        sql = (
            "SELECT sum(promoters), sum(passives), sum(detractors) FROM roll_nps"
            " WHERE month BETWEEN ? AND ? AND partner_key = ? UNION ALL SELECT "
            + counts_sql("n.score") + " FROM nps_responses n"
            # CROSS JOIN keeps SQLite reading the few edge days first; otherwise it walks every
            # episode of a busy partner (120 ms instead of 1 ms on 36,000 referrals).
            f" CROSS JOIN episodes e ON e.id = n.episode_id WHERE e.partner_id = ? AND {edge}"
        )
        params = [*split.month_params(), partner_id, partner_id, *edge_params]
    p = m = d = 0
    for a_, b_, c_ in db.execute(sql, params):
        p, m, d = p + int(a_ or 0), m + int(b_ or 0), d + int(c_ or 0)
    return Nps(promoters=p, passives=m, detractors=d)


def active_partners(db: Queryable, first: date, last: date) -> int:
    """Partners with at least one referral dated in [first, last]."""
    split = split_months(first, last)
    edge, edge_params = split.edge_sql("referral_date")
    return int(db.execute(
        "SELECT count(*) FROM (SELECT partner_key FROM roll_episodes WHERE month BETWEEN ? AND ?"
        " AND partner_key != 0 AND n > 0 UNION SELECT partner_id FROM episodes"
        f" WHERE partner_id IS NOT NULL AND {edge})",
        [*split.month_params(), *edge_params],
    ).fetchone()[0])


@dataclass(frozen=True)
class Rate:
    """A share with its denominator (``rate`` is None when n is 0)."""

    met: int
    n: int

    @property
    def rate(self) -> float | None:
        return self.met / self.n if self.n else None


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


def clinic_mcid(db: Queryable, start: date, end: date, partner_id: int | None = None) -> Rate:
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


