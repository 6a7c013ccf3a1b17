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
from datetime import date
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


def observations(db: Queryable, period: periods.Period, *, partner_id: int | None = None,
                 primary: Mapping[str, str] | None = None,
                 groups: Mapping[str, str] | None = None) -> list[Observation]:
    """Each evaluated episode referred in ``period`` (one partner's with ``partner_id``) with
    its follow-up on its measure, in episode id order."""
    known = catalog.instruments()
    scales: dict[str, tuple[str, Scale]] = {}
    for instrument in known.values():
        for scale_id, scale in instrument.scales.items():
            scales[scale_id] = (instrument.id, scale)
    default_scale: dict[str, str | None] = {}

    def scale_of(episode_instrument: str | None, region: str) -> str | None:
        inst = episode_instrument or vocab.DEFAULT_INSTRUMENT_BY_REGION.get(region)
        if inst is None or inst not in known:
            return None
        if inst not in default_scale:
            found = primary_scale(known[inst])
            default_scale[inst] = None if found is None else next(
                k for k, v in known[inst].scales.items() if v is found)
        return default_scale[inst]

    start, end = period.iso()
    sql = ("SELECT e.id, e.partner_id, e.first_visit_date, e.body_region, e.instrument,"
           " r.instrument, r.timepoint, r.date, r.scores"
           " FROM episodes e JOIN responses r ON r.episode_id = e.id"
           " WHERE e.referral_date BETWEEN ? AND ? AND e.first_visit_date IS NOT NULL")
    params: list[Any] = [start, end]
    if partner_id is not None:
        sql += " AND e.partner_id = ?"
        params.append(partner_id)
    sql += " ORDER BY e.id, r.date, r.id"

    out: list[Observation] = []
    current: str | None = None
    rows: list[tuple[Any, ...]] = []
    for row in db.execute(sql, params):
        if row[0] != current:
            if rows:
                _one(rows, out, scales, scale_of, primary, groups)
            current, rows = row[0], []
        rows.append(row)
    if rows:
        _one(rows, out, scales, scale_of, primary, groups)
    return out


def _one(rows: list[tuple[Any, ...]], out: list[Observation],
         scales: Mapping[str, tuple[str, Scale]], scale_of: Any,
         primary: Mapping[str, str] | None, groups: Mapping[str, str] | None) -> None:
    episode_id, partner_id, first_visit, region, episode_instrument = rows[0][:5]
    scale_id = (primary or {}).get(episode_id) or scale_of(episode_instrument, region)
    if scale_id is None or scale_id not in scales:
        return
    instrument_id, scale = scales[scale_id]
    if scale.mcid is None:
        return
    start = date.fromisoformat(first_visit)
    intake: float | None = None
    last_day: int | None = None
    for *_, instrument, timepoint, when, scores_json in rows:
        if instrument != instrument_id:
            continue
        value = json.loads(scores_json).get(scale_id)
        if value is None:
            continue
        if intake is None:
            if timepoint == "intake":
                intake = float(value)
            continue
        if timepoint == "intake":
            continue
        day = max(0, (date.fromisoformat(when) - start).days)
        if scoring.mcid_reached(scale, intake, float(value)):
            out.append(Observation(episode_id, partner_id, scale_id,
                                   (groups or {}).get(episode_id) or region, day, True))
            return
        last_day = day
    if intake is not None and last_day is not None:
        out.append(Observation(episode_id, partner_id, scale_id,
                               (groups or {}).get(episode_id) or region, last_day, False))


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
