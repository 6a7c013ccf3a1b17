"""Time to recovery: days from the first visit to the first response that reaches the MCID on
the episode's measure, as a Kaplan-Meier curve per partner, for the clinic and per condition.

An episode counts once, on one measure: its primary measure when the caller gives one
(``primary``: episode id -> scale id), else the first scale with a published MCID of the
episode's instrument (``episodes.instrument``, else the body region's default instrument).
Its clock starts at the first visit. It **recovers** on the date of the first later response
(progress, discharge or follow-up) whose improvement over the intake score reaches the MCID
(``outcomes.measures.scoring.mcid_reached``, the rule of every other MCID figure). An episode
that has not recovered is **censored** at its last response on that measure, the last day its
state was known: discharged, lost or still in care, it is kept in the curve up to then, never
dropped and never counted as recovered. A discharge date without a score after it says nothing
about recovery, so it does not move the censoring day. Episodes with no response after intake
carry no follow-up and are left out (in a Kaplan-Meier curve they would change nothing).

Episodes count in the period by referral date, as in the scorecard; ``patients`` is never read.
Groups are condition groups when the caller gives them (``groups``: episode id -> group),
else body regions. A curve that rests on fewer than ``min_n`` episodes is suppressed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from outcomes import periods, vocab
from outcomes.measures import catalog, scoring
from outcomes.measures.instruments import Instrument, Scale
from outcomes.reports.survival import KaplanMeier, kaplan_meier
from outcomes.store import settings
from outcomes.store.database import Queryable

CLINIC = "clinic"
"""Key of the whole clinic in :func:`recovery_by_partner`."""


@dataclass(frozen=True)
class Observation:
    """One episode's follow-up: ``days`` from the first visit to recovery (``recovered``) or
    to its last response (censored)."""

    episode_id: str
    partner_id: int | None
    scale: str
    group: str
    days: int
    recovered: bool


@dataclass(frozen=True)
class RecoveryCurve:
    """Time to recovery for one group of episodes. Figures are None when the curve rests on
    fewer than ``min_n`` episodes (``suppressed``); the counts stay."""

    n: int
    recovered: int
    censored: int
    median_days: float | None
    median_ci_days: tuple[float | None, float | None] | None
    """Brookmeyer-Crowley 95% interval (log-log); an end is None when the band does not
    cross one half within follow-up (not reached)."""
    steps: tuple[tuple[float, ...], tuple[float, ...]] | None
    """The step chart: (days, share not yet recovered), from (0, 1)."""
    suppressed: bool = False

    @property
    def median_weeks(self) -> float | None:
        return None if self.median_days is None else self.median_days / 7.0

    @property
    def median_ci_weeks(self) -> tuple[float | None, float | None] | None:
        if self.median_ci_days is None:
            return None
        lo, hi = self.median_ci_days
        return (None if lo is None else lo / 7.0, None if hi is None else hi / 7.0)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "n": self.n, "recovered": self.recovered, "censored": self.censored,
            "median_days": self.median_days, "median_weeks": self.median_weeks,
            "median_ci95_days": list(self.median_ci_days) if self.median_ci_days else None,
            "median_ci95_weeks": list(self.median_ci_weeks) if self.median_ci_weeks else None,
            "steps": ({"days": list(self.steps[0]), "not_recovered": list(self.steps[1])}
                      if self.steps else None),
        }
        if self.suppressed:
            data["suppressed"] = True
        return data


def curve(observations: Sequence[Observation], min_n: int) -> RecoveryCurve:
    """The Kaplan-Meier curve of these episodes, suppressed under ``min_n`` (pure)."""
    n = len(observations)
    recovered = sum(o.recovered for o in observations)
    if n == 0 or n < min_n:
        return RecoveryCurve(n, recovered, n - recovered, None, None, None,
                             suppressed=n > 0)
    km: KaplanMeier = kaplan_meier([o.days for o in observations],
                                   [o.recovered for o in observations])
    return RecoveryCurve(n, recovered, n - recovered, km.median(), km.median_ci(), km.steps())


def primary_scale(instrument: Instrument) -> Scale | None:
    """The first scale of an instrument with a published MCID (PROMIS-10: physical health)."""
    return next((s for s in instrument.scales.values() if s.mcid is not None), None)


def _scales() -> tuple[dict[str, tuple[str, Scale]], dict[str, str]]:
    """Every scale by id (with its instrument), and each instrument's default scale."""
    known = catalog.instruments()
    scales: dict[str, tuple[str, Scale]] = {}
    default: dict[str, str] = {}
    for instrument in known.values():
        for scale_id, scale in instrument.scales.items():
            scales[scale_id] = (instrument.id, scale)
        found = primary_scale(instrument)
        if found is not None:
            default[instrument.id] = next(k for k, v in instrument.scales.items() if v is found)
    return scales, default


def observations(db: Queryable, period: periods.Period, *, partner_id: int | None = None,
                 primary: Mapping[str, str] | None = None,
                 groups: Mapping[str, str] | None = None) -> list[Observation]:
    """Each evaluated episode referred in ``period`` (one partner's with ``partner_id``) with
    its follow-up on its measure, in episode id order."""
    scales, default = _scales()
    start, end = period.iso()
    params: list[Any] = []
    if primary is None:
        # Each episode's measure is known from its instrument (or region), so SQLite picks
        # the responses on it and extracts the one score: no JSON is decoded in Python.
        inst = [(i, s) for i, s in sorted(default.items())]
        regions = sorted(vocab.DEFAULT_INSTRUMENT_BY_REGION.items())
        sql = (
            "WITH inst(instrument, scale) AS (VALUES "
            + ", ".join("(?, ?)" for _ in inst) + "),"
            " reg(region, instrument) AS (VALUES " + ", ".join("(?, ?)" for _ in regions) + ")"
            " SELECT e.id, e.partner_id, e.body_region, s.scale, r.timepoint,"
            " CAST(julianday(r.date) - julianday(e.first_visit_date) AS INTEGER),"
            " json_extract(r.scores, '$.\"' || s.scale || '\"')"
            # CROSS JOIN keeps this order: the period's episodes first (by the referral date
            # index), then their measure and responses; SQLite would otherwise scan the
            # episodes once per instrument.
            " FROM episodes e LEFT JOIN reg ON reg.region = e.body_region"
            " CROSS JOIN inst s ON s.instrument = coalesce(e.instrument, reg.instrument)"
            " CROSS JOIN responses r ON r.episode_id = e.id AND r.instrument = s.instrument")
        params += [v for pair in inst for v in pair] + [v for pair in regions for v in pair]
    else:
        sql = ("SELECT e.id, e.partner_id, e.body_region,"
               " e.instrument, r.timepoint,"
               " CAST(julianday(r.date) - julianday(e.first_visit_date) AS INTEGER),"
               " r.scores, r.instrument"
               " FROM episodes e JOIN responses r ON r.episode_id = e.id")
    sql += (" WHERE e.referral_date BETWEEN ? AND ?"
            " AND julianday(e.first_visit_date) IS NOT NULL")
    params += [start, end]
    if partner_id is not None:
        sql += " AND e.partner_id = ?"
        params.append(partner_id)
    sql += " ORDER BY e.id, r.date, r.id"

    out: list[Observation] = []
    current: str | None = None
    follow: list[tuple[str, int, float]] = []
    head: tuple[Any, ...] = ()
    group_of = groups or {}

    def flush() -> None:
        episode_id, pid, region, scale_id = head
        if scale_id is None or scale_id not in scales or scales[scale_id][1].mcid is None:
            return
        found = _follow(scales[scale_id][1], follow)
        if found is not None:
            out.append(Observation(episode_id, pid, scale_id,
                                   group_of.get(episode_id) or region, *found))

    for row in db.execute(sql, params):
        if row[0] != current:
            if current is not None:
                flush()
            current, follow = row[0], []
            if primary is None:
                head = row[:4]
            else:
                chosen = primary.get(row[0])
                if chosen is None:
                    inst_id = row[3] or vocab.DEFAULT_INSTRUMENT_BY_REGION.get(row[2])
                    chosen = default.get(inst_id) if inst_id else None
                head = (row[0], row[1], row[2], chosen)
        if primary is None:
            value = row[6]
        else:
            scale_id = head[3]
            if scale_id is None or scale_id not in scales or row[7] != scales[scale_id][0]:
                continue
            value = json.loads(row[6]).get(scale_id)
        if value is not None:
            follow.append((row[4], max(0, int(row[5] or 0)), float(value)))
    if current is not None:
        flush()
    return out


def _follow(scale: Scale, follow: Sequence[tuple[str, int, float]]) -> tuple[int, bool] | None:
    """(day, recovered) from one episode's scores on its measure in date order: the day of
    the first later score that reaches the MCID over the first intake score, else the day of
    the last score (censored); None without an intake or without a score after it."""
    intake: float | None = None
    last_day: int | None = None
    for timepoint, day, value in follow:
        if intake is None:
            if timepoint == "intake":
                intake = value
            continue
        if timepoint == "intake":
            continue
        if scoring.mcid_reached(scale, intake, value):
            return day, True
        last_day = day
    if intake is None or last_day is None:
        return None
    return last_day, False


def _min_n(db: Queryable, min_n: int | None) -> int:
    return int(settings.get(db, "min_n")) if min_n is None else min_n


def recovery_curve(db: Queryable, partner_id: int | None, period: periods.Period, *,
                   group: str | None = None, primary: Mapping[str, str] | None = None,
                   groups: Mapping[str, str] | None = None,
                   min_n: int | None = None) -> RecoveryCurve:
    """Time to recovery of one partner's episodes (the whole clinic's with None), optionally
    of one condition group (or body region) only."""
    found = observations(db, period, partner_id=partner_id, primary=primary, groups=groups)
    if group is not None:
        found = [o for o in found if o.group == group]
    return curve(found, _min_n(db, min_n))


def recovery_by_partner(db: Queryable, period: periods.Period, *,
                        primary: Mapping[str, str] | None = None,
                        groups: Mapping[str, str] | None = None,
                        min_n: int | None = None) -> dict[int | str | None, RecoveryCurve]:
    """Every partner's curve (None: self-referred) and the clinic's (key ``CLINIC``), from one
    read: what a scorecard needs."""
    found = observations(db, period, primary=primary, groups=groups)
    by: dict[int | str | None, list[Observation]] = defaultdict(list)
    for o in found:
        by[o.partner_id].append(o)
    limit = _min_n(db, min_n)
    result: dict[int | str | None, RecoveryCurve] = {k: curve(v, limit) for k, v in by.items()}
    result[CLINIC] = curve(found, limit)
    return result


def recovery_by_group(db: Queryable, period: periods.Period, *, partner_id: int | None = None,
                      primary: Mapping[str, str] | None = None,
                      groups: Mapping[str, str] | None = None,
                      min_n: int | None = None) -> dict[str, RecoveryCurve]:
    """One curve per condition group (body region until conditions are recorded), largest
    group first; for one partner, or the clinic with None."""
    found = observations(db, period, partner_id=partner_id, primary=primary, groups=groups)
    by: dict[str, list[Observation]] = defaultdict(list)
    for o in found:
        by[o.group].append(o)
    limit = _min_n(db, min_n)
    ordered = sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return {name: curve(obs, limit) for name, obs in ordered}


__all__ = ["CLINIC", "Observation", "RecoveryCurve", "curve", "observations", "primary_scale",
           "recovery_by_group", "recovery_by_partner", "recovery_curve"]


def weeks_text(days: float | None) -> str:
    """Days as weeks to one decimal, or "not reached" (an interval end the curve never
    crossed)."""
    return "not reached" if days is None else f"{days / 7:.1f}"


def recovery_sentence(mine: RecoveryCurve, clinic: RecoveryCurve | None) -> str:
    """Time to recovery in one plain sentence, the partner's beside the clinic's: "Median time
    to a clinically important improvement: 4.3 weeks (95% CI 3.1-6.0; 38 patients, 9 not
    recovered yet or lost); clinic 5.0 weeks." Below ``min_n`` it says so."""
    clinic_part = (f"; clinic {weeks_text(clinic.median_days)} weeks"
                   if clinic is not None and clinic.median_days is not None else "")
    if mine.n == 0:
        return "Time to recovery: no patient with a follow-up score yet" + clinic_part + "."
    if mine.suppressed:
        return (f"Time to recovery: not shown for fewer than the minimum number of patients "
                f"({mine.n}){clinic_part}.")
    ci = ""
    if mine.median_ci_days is not None:
        lo, hi = mine.median_ci_days
        ci = f"95% CI {weeks_text(lo)}-{weeks_text(hi)}; "
    median = ("not reached" if mine.median_days is None
              else f"{weeks_text(mine.median_days)} weeks")
    return (f"Median time to a clinically important improvement: {median} ({ci}{mine.n} "
            f"patients, {mine.censored} not recovered yet or lost){clinic_part}.")


def not_recovered_by_week(curve: RecoveryCurve, weeks: int) -> list[float] | None:
    """The step chart sampled once a week: the share not yet recovered (percent) at the end of
    weeks 0..``weeks`` (the Kaplan-Meier estimate holds between events). None when the curve is
    suppressed or has no steps."""
    if curve.suppressed or not curve.steps:
        return None
    days, share = curve.steps
    out: list[float] = []
    i = 0
    for week in range(weeks + 1):
        while i + 1 < len(days) and days[i + 1] <= 7 * week:
            i += 1
        out.append(100.0 * share[i])
    return out
