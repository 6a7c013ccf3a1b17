"""The group scorecard, computed in PostgreSQL over every clinic's synced records.

The aggregation (counts, sums, medians, NPS categories) runs as SQL in PostgreSQL, one query
per kind of figure with GROUPING SETS for the group as a whole, each partner, each clinic and
each clinic's share of each partner: only aggregates come back, never rows of patients. Python
then applies the clinic scorecard's rules to those aggregates: means, Wilson intervals, the NPS
and its margin, and small-group suppression (``min_n``). The result has the JSON shape of
``outcomes scorecard --json`` (docs/reports.md), where ``clinic`` is the whole group, plus:

- ``clinics``: one block per clinic (``clinic_id``, ``name`` and the same fields as ``clinic``);
- in each partner, ``clinics``: the same per-clinic breakdown of that partner's patients, for
  the clinics it referred to in the period, and ``n_clinics``, how many those are.

Partners are the group's (matched across clinics by NPI; ``partner_id`` is the group id).

The funnel and the packet effect are aggregated in PostgreSQL too: the funnel's stages with the
episode counts, the not-scheduled reasons in a grouped count, and the packet effect as, per
level, the number of complete packets, the sums of their before and after counts and the
standard deviation of their changes; :func:`pooled_from_sums` turns those into the clinic
scorecard's ``Pooled``. A packet counts the partner's referrals to every clinic of the group
in the group and partner figures, and to the sending clinic only in that clinic's figures.

The condition figures (``primary``, ``by_condition``, ``by_procedure``: each episode once, on its
primary measure) come from one more grouped query, each level pooled, by condition group and by
procedure; the clinic scorecard's rule (``PooledFigures``) is applied to the counts.

One module because every block of the group scorecard is read in the same snapshot, keyed by the
same grouping-set levels (:func:`_key`) and assembled by one ``block`` function: split up, the
levels and the JSON shape would be defined in several places that must agree.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from outcomes.errors import InstrumentError, OutcomesError, ValidationError
from outcomes.measures import catalog
from outcomes.network.frontdesk import NO_REASON, Funnel
from outcomes.network.packet_effect import CAUTION, Pooled
from outcomes.periods import RECENT_DAYS
from outcomes.reports.scorecard import PoolCell, check_period, pooled_figures, ranked_figures
from outcomes.reports.statistics import Nps, wilson
from outcomes.studentt import t_quantile

if TYPE_CHECKING:
    import psycopg

# Keys of the aggregates: the whole group, one partner, one clinic, one partner at one clinic.
_GROUP = ("group",)

# GROUPING(pid, clinic_id) is a bitmask, last argument lowest: 2 = all partners together,
# 1 = all clinics together, 3 = both.
_SETS = "GROUPING SETS (({extra}), (pid{sep}{extra}), (clinic_id{sep}{extra}), " \
        "(clinic_id, pid{sep}{extra}))"

_EPISODES = """
WITH e AS (
    SELECT e.clinic_id, cp.partner_id AS pid, e.status, e.visits,
           e.first_visit_date - e.referral_date AS days, e.first_visit_date, e.scheduled,
           e.self_discharged
    FROM episodes e
    LEFT JOIN clinic_partners cp
        ON cp.clinic_id = e.clinic_id AND cp.local_id = e.partner_local_id
    WHERE e.referral_date BETWEEN %(start)s AND %(end)s
)
SELECT GROUPING(pid, clinic_id), pid, clinic_id,
       count(*), count(first_visit_date), count(*) FILTER (WHERE status = 'discharged'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days),
       count(visits) FILTER (WHERE status = 'discharged'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY visits) FILTER (WHERE status = 'discharged'),
       -- The funnel (outcomes.reports.rollups.funnels): each stage counts the referrals that
       -- reached it or went further.
       count(*) FILTER (WHERE status IN ('scheduled', 'evaluated', 'in_care', 'discharged')
                        OR scheduled OR first_visit_date IS NOT NULL),
       count(*) FILTER (WHERE status IN ('evaluated', 'in_care', 'discharged')
                        OR first_visit_date IS NOT NULL),
       count(*) FILTER (WHERE status = 'discharged' AND self_discharged),
       count(*) FILTER (WHERE status = 'received'),
       count(*) FILTER (WHERE status = 'cancelled')
FROM e
GROUP BY {sets}
"""

_REASONS = """
WITH r AS (
    SELECT e.clinic_id, cp.partner_id AS pid,
           coalesce(nullif(btrim(e.not_scheduled_reason), ''), %(no_reason)s) AS reason
    FROM episodes e
    LEFT JOIN clinic_partners cp
        ON cp.clinic_id = e.clinic_id AND cp.local_id = e.partner_local_id
    WHERE e.status = 'not_scheduled' AND e.referral_date BETWEEN %(start)s AND %(end)s
)
SELECT GROUPING(pid, clinic_id), pid, clinic_id, reason, count(*)
FROM r
GROUP BY {sets}
"""

# The packet effect (outcomes.network.packet_effect): for each packet whose after-window has
# ended by the period's end, the partner's referrals in the 90 days before its day and the 90
# days after. Counted twice: to every clinic of the group (the group and partner figures: a
# packet from one clinic may bring referrals to another) and to the sending clinic only (its
# clinic and clinic-partner figures, so each clinic's block is its own scorecard's). Only
# per-level sums and the standard deviation of the changes come back.
_PACKETS = """
WITH k AS (
    SELECT k.clinic_id, k.local_id, cp.partner_id AS pid, k.date
    FROM packets k
    JOIN clinic_partners cp ON cp.clinic_id = k.clinic_id AND cp.local_id = k.partner_local_id
    WHERE k.date + %(days)s <= %(end)s
), per_packet AS (
    SELECT k.clinic_id, k.pid,
           count(*) FILTER (WHERE e.referral_date < k.date) AS before_all,
           count(*) FILTER (WHERE e.referral_date > k.date) AS after_all,
           count(*) FILTER (WHERE e.referral_date < k.date AND e.clinic_id = k.clinic_id)
               AS before_here,
           count(*) FILTER (WHERE e.referral_date > k.date AND e.clinic_id = k.clinic_id)
               AS after_here
    FROM k
    LEFT JOIN clinic_partners cpe ON cpe.partner_id = k.pid
    LEFT JOIN episodes e
        ON e.clinic_id = cpe.clinic_id AND e.partner_local_id = cpe.local_id
       AND e.referral_date BETWEEN k.date - %(days)s AND k.date + %(days)s
    GROUP BY k.clinic_id, k.local_id, k.pid
)
SELECT GROUPING(pid, clinic_id), pid, clinic_id, count(*),
       sum(before_all), sum(after_all), stddev_samp(after_all - before_all),
       sum(before_here), sum(after_here), stddev_samp(after_here - before_here)
FROM per_packet
GROUP BY {sets}
"""

_OUTCOMES = """
WITH o AS (
    SELECT o.clinic_id, cp.partner_id AS pid, o.scale, o.carried_forward, o.intake_score,
           o.final_score, o.improvement, o.mcid_met
    FROM episode_outcomes o
    LEFT JOIN clinic_partners cp
        ON cp.clinic_id = o.clinic_id AND cp.local_id = o.partner_local_id
    WHERE o.referral_date BETWEEN %(start)s AND %(end)s
      AND o.intake_score IS NOT NULL AND o.final_score IS NOT NULL AND o.instrument <> 'nps'
)
SELECT GROUPING(pid, clinic_id), pid, clinic_id, scale, carried_forward,
       count(*), sum(intake_score), sum(final_score), sum(coalesce(improvement, 0)),
       sum(coalesce(mcid_met, 0)), count(mcid_met)
FROM o
GROUP BY {sets}
"""

_NPS = """
WITH n AS (
    SELECT n.clinic_id, cp.partner_id AS pid, n.score
    FROM nps_responses n
    LEFT JOIN episodes e ON e.clinic_id = n.clinic_id AND e.episode_key = n.episode_key
    LEFT JOIN clinic_partners cp
        ON cp.clinic_id = e.clinic_id AND cp.local_id = e.partner_local_id
    WHERE n.date BETWEEN %(start)s AND %(end)s
)
SELECT GROUPING(pid, clinic_id), pid, clinic_id,
       count(*) FILTER (WHERE score >= 9), count(*) FILTER (WHERE score BETWEEN 7 AND 8),
       count(*) FILTER (WHERE score <= 6)
FROM n
GROUP BY {sets}
"""


# The condition figures (outcomes.reports.scorecard: ``primary``, ``by_condition``,
# ``by_procedure``): each episode once, on its primary measure, carried-forward pairs left out.
# Every level of _SETS three times: pooled, by condition group, by procedure. GROUPING(pid,
# clinic_id, condition, procedure): the level in the two high bits (as _SETS), the split in the
# two low ones (3 = pooled, 1 = by condition, 2 = by procedure).
_PRIMARY = """
WITH p AS (
    SELECT o.clinic_id, cp.partner_id AS pid,
           coalesce(nullif(o.condition_group, ''), %(other)s) AS condition,
           nullif(o.procedure, '') AS procedure, o.mcid_met, o.surgical
    FROM episode_outcomes o
    LEFT JOIN clinic_partners cp
        ON cp.clinic_id = o.clinic_id AND cp.local_id = o.partner_local_id
    WHERE o.is_primary AND o.carried_forward = 0 AND o.improvement IS NOT NULL
      AND o.referral_date BETWEEN %(start)s AND %(end)s
)
SELECT GROUPING(pid, clinic_id, condition, procedure), pid, clinic_id, condition, procedure,
       count(*), coalesce(sum(mcid_met), 0), count(mcid_met), count(*) FILTER (WHERE surgical)
FROM p
GROUP BY GROUPING SETS ({sets})
"""

# The condition group of an episode without one (outcomes.reports.scorecard counts it so).
_NO_CONDITION = "Other condition"


def _primary_sets() -> str:
    levels = ("", "pid", "clinic_id", "clinic_id, pid")
    splits = ("", "condition", "procedure")
    return ", ".join("(" + ", ".join(x for x in (level, split) if x) + ")"
                     for level in levels for split in splits)


def _sets(extra: str = "") -> str:
    return _SETS.format(extra=extra, sep=", " if extra else "")


def _key(grouping: int, pid: int | None, clinic_id: str | None) -> tuple[Any, ...]:
    if grouping == 3:
        return _GROUP
    if grouping == 1:
        return ("partner", pid)
    if grouping == 2:
        return ("clinic", clinic_id)
    return ("clinic-partner", clinic_id, pid)


class _Acc:
    __slots__ = ("final", "improvement", "intake", "judged", "met", "n")

    def __init__(self, n: int = 0, intake: float = 0.0, final: float = 0.0,
                 improvement: float = 0.0, met: int = 0, judged: int = 0) -> None:
        self.n, self.intake, self.final = n, intake, final
        self.improvement, self.met, self.judged = improvement, met, judged


def _outcome_block(acc: _Acc, min_n: int) -> dict[str, Any]:
    # The clinic scorecard's rule (outcomes.reports.scorecard): means and rates are null below
    # min_n patients, with "suppressed": true; n stays.
    suppressed = acc.n < min_n or acc.n == 0
    ci = wilson(acc.met, acc.judged) if acc.judged else None
    block: dict[str, Any] = {
        "n": acc.n,
        "mean_intake": None if suppressed else acc.intake / acc.n,
        "mean_final": None if suppressed else acc.final / acc.n,
        "mean_improvement": None if suppressed else acc.improvement / acc.n,
        "mcid_rate": None if suppressed or not acc.judged else acc.met / acc.judged,
        "mcid_rate_ci95": None if suppressed or ci is None else [ci[0], ci[1]],
    }
    if acc.n and acc.n < min_n:
        block["suppressed"] = True
    return block


def _mcid(scale_id: str) -> tuple[float | None, str | None]:
    from outcomes.measures.scoring import scale_by_id

    try:
        _instrument, scale = scale_by_id(scale_id, catalog.instruments())
    except InstrumentError:
        return None, None
    if scale.mcid is None:
        return None, None
    return scale.mcid.value, scale.mcid.unit


def _outcomes(cells: Mapping[tuple[str, int], _Acc], min_n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scale_id in sorted({scale for scale, _ in cells}):
        main = cells.get((scale_id, 0)) or _Acc()
        carried = cells.get((scale_id, 1)) or _Acc()
        mcid, unit = _mcid(scale_id)
        block = _outcome_block(main, min_n)
        block["mcid"] = mcid
        block["mcid_unit"] = unit
        if mcid is None:
            block["mcid_rate"] = block["mcid_rate_ci95"] = None
        block["n_carried_forward"] = carried.n
        if carried.n:
            cf = _outcome_block(carried, min_n)
            if mcid is None:
                cf["mcid_rate"] = cf["mcid_rate_ci95"] = None
            block["carried_forward"] = cf
        else:
            block["carried_forward"] = None
        out[scale_id] = block
    return out


def _nps_block(counts: tuple[int, int, int] | None, min_n: int) -> dict[str, Any]:
    summary = Nps(*(counts or (0, 0, 0))).as_dict()
    if summary["n"] and int(summary["n"] or 0) < min_n:
        summary["score"] = summary["moe95"] = None
        summary["suppressed"] = True
    return summary


def pooled_from_sums(n: int, sum_before: float, sum_after: float,
                     sd_change: float | None) -> Pooled:
    """``outcomes.network.packet_effect.pooled`` from aggregates: ``n`` complete packets, the
    sums of their before and after counts and the sample standard deviation of their changes
    (None under two packets). A property test holds it equal to ``pooled``."""
    if n == 0:
        return Pooled(0, None, None, None, None, RECENT_DAYS, CAUTION)
    mean = (sum_after - sum_before) / n
    ci = None
    if n >= 2:
        half = t_quantile(0.975, n - 1) * float(sd_change or 0.0) / math.sqrt(n)
        ci = (mean - half, mean + half)
    return Pooled(n, sum_before / n, sum_after / n, mean, ci, RECENT_DAYS, CAUTION)


def _funnel(counts: tuple[Any, ...] | None, reasons: dict[str, int] | None) -> Funnel:
    """The clinic scorecard's funnel of one key, from the aggregates of _EPISODES and
    _REASONS; reasons most frequent first, then by name (as the clinic's)."""
    if counts is None:
        return Funnel()
    n, _evaluated, discharged, _days, _nv, _mv, scheduled, seen, self_dc, waiting, cancelled = (
        counts)
    ordered = dict(sorted((reasons or {}).items(), key=lambda kv: (-kv[1], kv[0])))
    return Funnel(n, scheduled, seen, discharged, self_dc, waiting, cancelled, ordered)


def group_scorecard(
    conn: psycopg.Connection[Any],
    start: date,
    end: date,
    *,
    min_n: int,
    partner_ids: Iterable[int] | None = None,
) -> dict[str, Any]:
    """The group scorecard for ``start``..``end`` (inclusive); see the module docstring.
    ``conn`` must not be inside a transaction (the queries take one snapshot of their own)."""
    check_period(start, end)
    if min_n < 0:
        raise ValidationError("min_n must be 0 or more.")
    params = {"start": start, "end": end}
    counts: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    reasons: dict[tuple[Any, ...], dict[str, int]] = defaultdict(dict)
    packets: dict[tuple[Any, ...], Pooled] = {}
    cells: dict[tuple[Any, ...], dict[tuple[str, int], _Acc]] = defaultdict(dict)
    nps: dict[tuple[Any, ...], tuple[int, int, int]] = {}
    pooled: dict[tuple[Any, ...], PoolCell] = {}
    by_condition: dict[tuple[Any, ...], dict[str, PoolCell]] = defaultdict(dict)
    by_procedure: dict[tuple[Any, ...], dict[str, PoolCell]] = defaultdict(dict)
    try:
        with conn.transaction():
            # One snapshot for the three queries, so a sync landing meanwhile is all in or out.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            # The grouping-set sorts of a large group spill to disk at the default 4 MB
            # (measured: 1.72 s -> 1.46 s over four 250k-episode clinics at 64 MB).
            conn.execute("SET LOCAL work_mem = '64MB'")
            for g, pid, cid, *figures in conn.execute(_EPISODES.format(sets=_sets()), params):
                counts[_key(g, pid, cid)] = tuple(figures)
            for g, pid, cid, reason, n in conn.execute(
                _REASONS.format(sets=_sets("reason")), {**params, "no_reason": NO_REASON}
            ):
                reasons[_key(g, pid, cid)][reason] = n
            for g, pid, cid, n, s_before, s_after, sd, h_before, h_after, h_sd in (
                conn.execute(_PACKETS.format(sets=_sets()), {**params, "days": RECENT_DAYS})
            ):
                key = _key(g, pid, cid)
                # The group and each partner count referrals to every clinic; a clinic's own
                # figures (and its share of a partner) count referrals to that clinic.
                whole = key[0] in ("group", "partner")
                packets[key] = pooled_from_sums(
                    n, float(s_before if whole else h_before), float(s_after if whole else h_after),
                    None if (sd if whole else h_sd) is None else float(sd if whole else h_sd))
            for g, pid, cid, scale, carried, n, s_in, s_out, s_imp, met, judged in (
                conn.execute(_OUTCOMES.format(sets=_sets("scale, carried_forward")),
                             params)
            ):
                cells[_key(g, pid, cid)][(scale, int(carried))] = _Acc(
                    n, float(s_in), float(s_out), float(s_imp), int(met), judged)
            for g, pid, cid, promoters, passives, detractors in conn.execute(
                _NPS.format(sets=_sets()), params
            ):
                nps[_key(g, pid, cid)] = (promoters, passives, detractors)
            for g, pid, cid, condition, procedure, n, met, judged, operated in conn.execute(
                _PRIMARY.format(sets=_primary_sets()), {**params, "other": _NO_CONDITION}
            ):
                acc = PoolCell(int(n), int(met), int(judged), int(operated))
                key = _key(g >> 2, pid, cid)
                if g & 3 == 3:
                    pooled[key] = acc
                elif g & 3 == 1:
                    by_condition[key][condition] = acc
                elif procedure is not None:  # episodes without a procedure have no row
                    by_procedure[key][procedure] = acc
            clinic_names = dict(conn.execute("SELECT clinic_id, name FROM clinics").fetchall())
            keys = {*counts, *nps}
            if partner_ids is None:
                wanted = sorted({k[1] for k in keys if k[0] == "partner" and k[1] is not None})
            else:
                wanted = sorted(set(partner_ids))
            identity = {row[0]: row[1:] for row in conn.execute(
                "SELECT id, name, npi, kind FROM partners WHERE id = ANY(%s)", [wanted])}
    except Exception as exc:
        import psycopg

        if isinstance(exc, psycopg.Error):
            raise OutcomesError(f"the group scorecard query failed: {exc}") from None
        raise
    missing = [pid for pid in wanted if pid not in identity]
    if missing:
        raise ValidationError(f"No partner with id {missing[0]} in the group database.")

    def block(key: tuple[Any, ...]) -> dict[str, Any]:
        n, evaluated, discharged, med_days, n_visits, med_visits, *_funnel_counts = counts.get(
            key, (0, 0, 0, None, 0, None))
        return {
            "referrals": n,
            "evaluated": evaluated,
            "discharged": discharged,
            "conversion_rate": evaluated / n if n else None,
            "median_days_to_first_visit": (float(med_days) if evaluated >= min_n
                                           and med_days is not None else None),
            "median_visits": (float(med_visits) if n_visits >= min_n
                              and med_visits is not None else None),
            "outcomes": _outcomes(cells.get(key, {}), min_n),
            "nps": _nps_block(nps.get(key), min_n),
            "funnel": _funnel(counts.get(key), reasons.get(key)).as_dict(),
            "packet_effect": packets.get(key, pooled_from_sums(0, 0, 0, None)).as_dict(),
            "primary": pooled_figures(pooled.get(key) or PoolCell(), min_n).as_dict(),
            "by_condition": [f.as_dict() for f in ranked_figures(by_condition.get(key, {}),
                                                                 min_n)],
            "by_procedure": [f.as_dict() for f in ranked_figures(by_procedure.get(key, {}),
                                                                 min_n)],
        }

    clinic_ids = sorted({k[1] for k in keys if k[0] == "clinic"})
    partners = []
    for pid in wanted:
        name, npi, kind = identity[pid]
        at = sorted(k[1] for k in keys if k[0] == "clinic-partner" and k[2] == pid)
        partners.append({
            "partner_id": pid, "name": name, "npi": npi, "kind": kind, **block(("partner", pid)),
            "n_clinics": sum(1 for cid in at if counts.get(("clinic-partner", cid, pid))),
            "clinics": [{"clinic_id": cid, "name": clinic_names.get(cid, cid),
                         **block(("clinic-partner", cid, pid))} for cid in at],
        })
    partners.sort(key=lambda p: (-p["referrals"], p["name"].casefold(), p["partner_id"]))
    return {
        "from": start.isoformat(), "to": end.isoformat(), "min_n": min_n,
        "clinic": block(_GROUP),
        "clinics": [{"clinic_id": cid, "name": clinic_names.get(cid, cid),
                     **block(("clinic", cid))} for cid in clinic_ids],
        "partners": partners,
    }


def referrals_by_month(conn: psycopg.Connection[Any], partner_id: int, start: date,
                       end: date) -> dict[str, int]:
    """The group partner's referrals to every clinic per month ('YYYY-MM' -> count), counted
    in PostgreSQL, for the group packet's referrals chart (months without any are absent)."""
    check_period(start, end)
    with conn.transaction():
        rows = conn.execute(
            "SELECT to_char(e.referral_date, 'YYYY-MM'), count(*) FROM episodes e"
            " JOIN clinic_partners cp"
            "   ON cp.clinic_id = e.clinic_id AND cp.local_id = e.partner_local_id"
            " WHERE cp.partner_id = %s AND e.referral_date BETWEEN %s AND %s GROUP BY 1",
            [partner_id, start, end]).fetchall()
    return {month: int(n) for month, n in rows}


def primary_cells(conn: psycopg.Connection[Any], start: date, end: date
                  ) -> list[tuple[Any, ...]]:
    """``outcomes.reports.scorecard.primary_cells`` over every clinic of the group: (group
    partner id or 0, condition group, procedure, n, reached, judged, surgical) per cell of
    primary-measure pairs referred in the period, counted in PostgreSQL, for the group packet's
    by-condition section (which needs the cells crossed by condition and procedure)."""
    check_period(start, end)
    with conn.transaction():
        rows = conn.execute(
            "SELECT coalesce(cp.partner_id, 0), o.condition_group, o.procedure, count(*),"
            " coalesce(sum(o.mcid_met), 0), count(o.mcid_met), count(*) FILTER (WHERE surgical)"
            " FROM episode_outcomes o LEFT JOIN clinic_partners cp"
            "   ON cp.clinic_id = o.clinic_id AND cp.local_id = o.partner_local_id"
            " WHERE o.is_primary AND o.carried_forward = 0 AND o.improvement IS NOT NULL"
            "   AND o.referral_date BETWEEN %s AND %s GROUP BY 1, 2, 3",
            [start, end]).fetchall()
    return [(int(pid), group, procedure, int(n), int(met), int(judged), int(operated))
            for pid, group, procedure, n, met, judged, operated in rows]


def resolve_partner(conn: psycopg.Connection[Any], ref: str) -> int:
    """A group partner id from an NPI, a group id or an unambiguous part of the name."""
    ref = ref.strip()
    if not ref:
        raise ValidationError("name a partner: NPI, group id or part of the name.")
    with conn.transaction():  # a transaction of its own: the scorecard's snapshot comes after
        if ref.isdigit() and len(ref) <= 18:
            row = conn.execute("SELECT id FROM partners WHERE npi = %s OR id = %s"
                               " ORDER BY npi = %s DESC LIMIT 1", [ref, int(ref), ref]).fetchone()
            if row:
                return int(row[0])
        rows = conn.execute(
            "SELECT id, name FROM partners WHERE name ILIKE %s ORDER BY name",
            ["%" + ref.replace("%", r"\%").replace("_", r"\_") + "%"]).fetchall()
    if len(rows) == 1:
        return int(rows[0][0])
    if not rows:
        raise ValidationError(f"no partner matching {ref!r} in the group database.")
    names = ", ".join(str(r[1]) for r in rows[:5])
    raise ValidationError(f"{ref!r} matches {len(rows)} partners ({names}); give the NPI.")


__all__ = ["group_scorecard", "pooled_from_sums", "primary_cells", "referrals_by_month",
           "resolve_partner"]
