"""Time to recovery: days from the first visit to the first response that reaches the MCID on
the episode's primary measure, as a Kaplan-Meier curve per partner, for the clinic and per
condition.

An episode counts once, on one measure: its **primary measure**, the summary row marked
``is_primary`` (``outcomes.measures.conditions.primary_instrument``: the episode's own
instrument, else the first of its body region's list answered at intake, else the first of the
list; its first scale), the one every pooled MCID rate counts it on. A caller may name another
scale per episode (``primary``: episode id -> scale id). Its clock starts at the first visit.
It **recovers** on the date of the first later response (progress, discharge or follow-up)
whose improvement over the intake score reaches the MCID
(``outcomes.measures.scoring.mcid_reached``, the rule of every other MCID figure). An episode
that has not recovered is **censored** at its last response on that measure, the last day its
state was known: discharged, lost or still in care, it is kept in the curve up to then, never
dropped and never counted as recovered. A discharge date without a score after it says nothing
about recovery, so it does not move the censoring day. Episodes with no response after intake,
and measures without a published MCID, carry no follow-up and are left out.

The day and the flag are stored on each summary row (``episode_outcomes.recovery_days``,
``recovered``, computed by ``outcomes.measures.summary`` on every write), so a curve is one
read of that table: no response is decoded, and ``patients`` is never read. Episodes count in
the period by referral date, as in the scorecard. Groups are the summary's condition groups,
or the caller's (``groups``: episode id -> group). A curve that rests on fewer than ``min_n``
episodes is suppressed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from outcomes import periods
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
    return _curve([o.days for o in observations], [o.recovered for o in observations], min_n)


def _curve(days: Sequence[int], recovered: Sequence[bool], min_n: int) -> RecoveryCurve:
    n = len(days)
    events = sum(recovered)
    if n == 0 or n < min_n:
        return RecoveryCurve(n, events, n - events, None, None, None, suppressed=n > 0)
    km: KaplanMeier = kaplan_meier(days, recovered)
    return RecoveryCurve(n, events, n - events, km.median(), km.median_ci(), km.steps())


def primary_scale(instrument: Instrument) -> Scale | None:
    """The first scale of an instrument with a published MCID (PROMIS-10: physical health)."""
    return next((s for s in instrument.scales.values() if s.mcid is not None), None)


def observations(db: Queryable, period: periods.Period, *, partner_id: int | None = None,
                 primary: Mapping[str, str] | None = None,
                 groups: Mapping[str, str] | None = None) -> list[Observation]:
    """Each episode referred in ``period`` (one partner's with ``partner_id``) with a follow-up
    on its primary measure (``primary`` names another scale for the episodes it lists), in
    episode id order."""
    start, end = period.iso()
    named = sorted(set((primary or {}).values()))
    # Without named scales every row read is a primary one: the constant keeps the read
    # inside the partial index (episode_outcomes_recovery) without touching the table.
    sql = ("SELECT episode_id, partner_id, scale, condition_group, recovery_days, recovered, "
           + ("is_primary" if named else "1")
           + " FROM episode_outcomes WHERE referral_date BETWEEN ? AND ?"
           " AND recovery_days IS NOT NULL")
    params: list[Any] = [start, end]
    if named:
        # The scales the caller names too: an episode it lists counts on that scale only
        # (when it has a follow-up there), every other episode on its primary row.
        sql += f" AND (is_primary = 1 OR scale IN ({', '.join('?' * len(named))}))"
        params += named
    else:
        sql += " AND is_primary = 1"  # as written, so the partial index serves it
    if partner_id is not None:
        sql += " AND partner_id = ?"
        params.append(partner_id)
    sql += " ORDER BY episode_id"
    chosen = primary or {}
    group_of = groups or {}
    return [Observation(eid, pid, scale, group_of.get(eid) or group or "", days, bool(recovered))
            for eid, pid, scale, group, days, recovered, is_primary in db.execute(sql, params)
            if (scale == chosen[eid] if eid in chosen else is_primary)]


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
    # Days and flags per partner in plain lists: the curves need nothing else. Without named
    # scales (the scorecard's case) they come straight from the partial index, in no order.
    days: dict[int | str | None, list[int]] = defaultdict(list)
    flags: dict[int | str | None, list[bool]] = defaultdict(list)
    if primary is None:
        start, end = period.iso()
        rows = db.execute(
            "SELECT partner_id, recovery_days, recovered FROM episode_outcomes"
            " WHERE referral_date BETWEEN ? AND ? AND recovery_days IS NOT NULL"
            " AND is_primary = 1", [start, end])
        for pid, day, recovered in rows:
            days[pid].append(day)
            flags[pid].append(bool(recovered))
    else:
        for o in observations(db, period, primary=primary, groups=groups):
            days[o.partner_id].append(o.days)
            flags[o.partner_id].append(o.recovered)
    limit = _min_n(db, min_n)
    result: dict[int | str | None, RecoveryCurve] = {
        k: _curve(v, flags[k], limit) for k, v in days.items()}
    result[CLINIC] = _curve([d for v in days.values() for d in v],
                            [f for v in flags.values() for f in v], limit)
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


__all__ = ["CLINIC", "WEEKS", "Observation", "RecoveryChart", "RecoveryCurve", "chart_from",
           "chart_of", "curve", "followed", "followed_weeks", "not_recovered_by_week",
           "observations", "primary_scale", "recovery_by_group", "recovery_by_partner",
           "recovery_chart", "recovery_curve", "recovery_sentence", "rest_followed_weeks",
           "weeks_text"]


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


WEEKS = 26
"""The step chart's horizon, on the partner screen and in the packet: the first half year of
care."""


def followed(days: Sequence[int], week: int) -> int:
    """Patients followed into ``week`` (days ``7(week-1)+1`` to ``7 week``): those whose
    follow-up ends after day ``7(week-1)``, whose recovery or censoring could move the curve
    in it."""
    return sum(d > 7 * (week - 1) for d in days)


def _followed_by_week(days: Sequence[int], horizon: int) -> list[int]:
    """:func:`followed` for weeks 0..``horizon`` from one sort (a clinic's year is ~100,000
    days; counting them again for every week took a third of a second)."""
    ordered = sorted(days)
    return [len(ordered) - bisect_right(ordered, 7 * (week - 1)) for week in range(horizon + 1)]


def followed_weeks(days: Sequence[int], shares: Sequence[float], min_n: int,
                   horizon: int = WEEKS) -> int:
    """The last week (0..``horizon``, within ``shares``) up to which the line may be drawn:
    every week from the first is followed by ``min_n`` patients, and one that reads 0% (every
    patient recovered, the packet's "100% reached the MCID") by ``2 x min_n``. The count only
    falls with the week, so the line stops at the first week that fails; week 0 (everyone at
    100%, by definition) always passes."""
    last = 0
    top = min(horizon, len(shares) - 1)
    counts = _followed_by_week(days, max(top, 0))
    for week in range(1, top + 1):
        n = counts[week]
        if n < min_n or (round(shares[week]) == 0 and n < 2 * min_n):
            break
        last = week
    return last


def _count_ok(n: int, min_n: int) -> bool:
    """A count may be shown: none, or at least ``min_n`` patients (the packets' rule)."""
    return n == 0 or n >= min_n


def rest_followed_weeks(mine: Sequence[int], clinic: Sequence[int], min_n: int,
                        horizon: int = WEEKS) -> int:
    """As :func:`followed_weeks` for the rest of the clinic (clinic minus partner): a week
    passes when the rest is followed by none or by at least ``min_n`` patients."""
    last = 0
    theirs, ours = _followed_by_week(clinic, horizon), _followed_by_week(mine, horizon)
    for week in range(1, horizon + 1):
        if not _count_ok(theirs[week] - ours[week], min_n):
            break
        last = week
    return last


@dataclass(frozen=True)
class RecoveryChart:
    """One partner's time to recovery beside the clinic's, and the weekly lines of the step
    chart as far as they may be drawn (what the partner screen and the packet both plot).

    ``mine_line`` is None when the partner's curve is suppressed or no week after week 0 is
    followed by ``min_n`` patients; ``clinic_line`` is None then too, or when the clinic may
    not be shown beside the partner (``clinic_comparable``: the rest of the clinic, clinic
    minus partner, is none or at least ``min_n`` patients), or when none of its weeks passes.
    A line's value at index ``w`` is the share (percent) not yet recovered at the end of week
    ``w``; each line stops at the first week that fails :func:`followed_weeks` (the clinic's
    also :func:`rest_followed_weeks`)."""

    mine: RecoveryCurve
    clinic: RecoveryCurve
    clinic_comparable: bool
    mine_line: list[float] | None
    clinic_line: list[float] | None
    min_n: int


def chart_of(observations: Sequence[Observation], partner_id: int | None, min_n: int,
             weeks: int = WEEKS) -> RecoveryChart:
    """The step chart of one partner among the clinic's ``observations`` (pure)."""
    mine = [o for o in observations if o.partner_id == partner_id]
    return chart_from([o.days for o in mine], [o.recovered for o in mine],
                      [o.days for o in observations], [o.recovered for o in observations],
                      min_n, weeks)


def chart_from(mine_days: Sequence[int], mine_recovered: Sequence[bool],
               all_days: Sequence[int], all_recovered: Sequence[bool], min_n: int,
               weeks: int = WEEKS) -> RecoveryChart:
    """The step chart from the partner's follow-up days and recovery flags and the whole
    clinic's (the partner's included), in any order (pure)."""
    mine, clinic = _curve(mine_days, mine_recovered, min_n), _curve(all_days, all_recovered, min_n)
    comparable = not clinic.suppressed and clinic.n > 0 and _count_ok(clinic.n - mine.n, min_n)
    mine_line = clinic_line = None
    mine_weekly = not_recovered_by_week(mine, weeks)
    if mine_weekly is not None:
        last = followed_weeks(mine_days, mine_weekly, min_n, weeks)
        if last >= 1:
            mine_line = mine_weekly[:last + 1]
            clinic_weekly = not_recovered_by_week(clinic, weeks) if comparable else None
            if clinic_weekly is not None:
                last = min(followed_weeks(all_days, clinic_weekly, min_n, weeks),
                           rest_followed_weeks(mine_days, all_days, min_n, weeks))
                if last >= 1:
                    clinic_line = clinic_weekly[:last + 1]
    return RecoveryChart(mine, clinic, comparable, mine_line, clinic_line, min_n)


def recovery_chart(db: Queryable, partner_id: int, period: periods.Period, *,
                   min_n: int | None = None, weeks: int = WEEKS) -> RecoveryChart:
    """The partner's step chart beside the clinic's (every episode on its primary measure),
    from one read of the period.

    The read is counted in SQL (one row per follow-up day, outcome and partner-or-not) and
    expanded into plain lists of ints: a year of a big clinic is ~100,000 episodes, and as
    many Python objects alive at once in the dashboard's worker set off full garbage
    collections that stall the interface for a tenth of a second and more."""
    start, end = period.iso()
    mine_days: list[int] = []
    mine_flags: list[bool] = []
    all_days: list[int] = []
    all_flags: list[bool] = []
    for days, recovered, is_mine, count in db.execute(
            "SELECT recovery_days, recovered, partner_id IS ?, count(*) FROM episode_outcomes"
            " WHERE referral_date BETWEEN ? AND ? AND recovery_days IS NOT NULL"
            " AND is_primary = 1 GROUP BY 1, 2, 3", [partner_id, start, end]):
        all_days += [days] * count
        all_flags += [bool(recovered)] * count
        if is_mine:
            mine_days += [days] * count
            mine_flags += [bool(recovered)] * count
    return chart_from(mine_days, mine_flags, all_days, all_flags, _min_n(db, min_n), weeks)
