"""The outcomes scorecard: per partner and for the whole clinic, over a period.

Episodes count in the period by referral date; NPS answers by response date (an answer belongs to
a partner through its episode's referrer; answers without an episode count clinic-wide only).
Everything is read from ``episodes``, ``episode_outcomes`` and ``nps_responses`` with a handful of
grouped queries; ``patients`` is never read, so no identity can reach a scorecard.

Outcome pairs whose final score was carried forward from a progress score (the patient stopped
attending before a discharge score) are never mixed into the main figures: ``n`` and the means
and rates count intake/discharge pairs only; ``n_carried_forward`` and the ``carried_forward``
block describe the carried-forward pairs on their own.

By condition: each episode counts once, on its primary measure (``is_primary`` rows of
``episode_outcomes``, see ``outcomes.measures.conditions``): ``primary`` is the pooled rate of
reaching the MCID over all of a group's episodes, ``by_condition`` and ``by_procedure`` split it
by condition group and by surgical procedure. They are read with one grouped query over the
partial covering index ``episode_outcomes_primary``; carried-forward pairs are left out, as in
the per-scale figures.

Suppression (``min_n``): a figure that describes patients' outcomes or experience (means, MCID
rates and intervals, medians, NPS score and margin) is null when it rests on fewer than ``min_n``
patients, with ``"suppressed": true``. Counts stay: the scorecard is the clinic's own report.
Evidence packets, which leave the clinic, suppress more (see
``outcomes.documents.packets.content``).

One module because every block (per scale, pooled, by condition, NPS) is built from the same
grouped reads with the same accumulators and the same ``min_n`` rule, and the JSON of
docs/reports.md is the shape of these dataclasses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import TYPE_CHECKING, Any

from outcomes import periods
from outcomes.errors import InstrumentError, ValidationError
from outcomes.measures import catalog
from outcomes.measures.instruments import Instrument
from outcomes.network import frontdesk, packet_effect
from outcomes.network.frontdesk import Funnel
from outcomes.network.packet_effect import Pooled
from outcomes.reports import rollups as rollup_readers
from outcomes.reports.statistics import Nps, wilson
from outcomes.store import settings

if TYPE_CHECKING:
    from sqlite_utils import Database

    from outcomes.reports.recovery import RecoveryCurve
    from outcomes.reports.riskmodel import Adjusted
    from outcomes.store.database import Queryable


@dataclass(frozen=True)
class OutcomeFigures:
    """Outcomes on one scale: intake/final pairs, their means and the MCID rate. Means, rate
    and interval are None when they rest on fewer than ``min_n`` patients (``suppressed``)."""

    n: int
    mean_intake: float | None
    mean_final: float | None
    mean_improvement: float | None
    mcid_rate: float | None
    mcid_rate_ci95: tuple[float, float] | None
    suppressed: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "n": self.n, "mean_intake": self.mean_intake, "mean_final": self.mean_final,
            "mean_improvement": self.mean_improvement, "mcid_rate": self.mcid_rate,
            "mcid_rate_ci95": list(self.mcid_rate_ci95) if self.mcid_rate_ci95 else None,
        }
        if self.suppressed:
            data["suppressed"] = True
        return data


@dataclass(frozen=True)
class ScaleFigures(OutcomeFigures):
    """Outcomes on one scale, with its MCID and the carried-forward pairs kept apart."""

    mcid: float | None = None
    mcid_unit: str | None = None
    n_carried_forward: int = 0
    carried_forward: OutcomeFigures | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "mcid": self.mcid, "mcid_unit": self.mcid_unit,
                "n_carried_forward": self.n_carried_forward,
                "carried_forward": (self.carried_forward.as_dict()
                                    if self.carried_forward else None)}


@dataclass(frozen=True)
class PooledFigures:
    """MCID reached on the primary measure, each episode once. ``n``: episodes with an intake
    and a discharge score on their primary measure; ``judged``: those whose measure has an
    MCID. Rate, interval, ``reached`` and the mean change are None under ``min_n``."""

    n: int
    judged: int
    reached: int | None
    mcid_rate: float | None
    mcid_rate_ci95: tuple[float, float] | None
    suppressed: bool = False
    name: str = ""
    """The condition group or procedure ("" for the pooled headline)."""
    surgical: int = 0
    """Of the ``n`` episodes, how many follow surgery (a count, kept as the scorecard keeps
    counts)."""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "n": self.n, "n_with_mcid": self.judged, "reached_mcid": self.reached,
            "mcid_rate": self.mcid_rate,
            "mcid_rate_ci95": list(self.mcid_rate_ci95) if self.mcid_rate_ci95 else None,
            "n_surgical": self.surgical}
        if self.name:
            data = {"name": self.name, **data}
        if self.suppressed:
            data["suppressed"] = True
        return data


@dataclass(frozen=True)
class NpsFigures:
    """NPS answers dated in the period; score and margin None under ``min_n`` answers."""

    n: int
    score: float | None
    moe95: float | None
    promoters: int
    passives: int
    detractors: int
    suppressed: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"n": self.n, "score": self.score, "moe95": self.moe95,
                                "promoters": self.promoters, "passives": self.passives,
                                "detractors": self.detractors}
        if self.suppressed:
            data["suppressed"] = True
        return data


@dataclass(frozen=True)
class Figures:
    """The scorecard's figures for one group of patients (a partner's, or the whole clinic)."""

    referrals: int
    evaluated: int
    discharged: int
    conversion_rate: float | None
    median_days_to_first_visit: float | None
    median_visits: float | None
    outcomes: dict[str, ScaleFigures]
    nps: NpsFigures
    funnel: Funnel
    """How far the referrals of the period got, with the reasons for not scheduling."""
    packet_effect: Pooled
    """Referrals in the 90 days after each packet sent up to the period's end against the 90
    days before, pooled: an association, not a cause (``caution``)."""
    primary: PooledFigures = field(default_factory=lambda: pooled_figures(PoolCell(), 0))
    """The pooled headline: MCID on each episode's primary measure, each episode once."""
    by_condition: list[PooledFigures] = field(default_factory=list)
    """The same by condition group, largest first."""
    by_procedure: list[PooledFigures] = field(default_factory=list)
    """The same by surgical procedure (episodes with one), largest first."""
    time_to_recovery: RecoveryCurve | None = None
    """Kaplan-Meier time to recovery when asked for (``evidence`` or ``recovery``), else None."""
    adjusted: dict[str, Adjusted] | None = None
    """Observed minus expected per measure when asked for (``evidence=True``), else None."""

    def evidence_dict(self) -> dict[str, Any]:
        """Time to recovery and observed minus expected, present only when computed."""
        out: dict[str, Any] = {}
        if self.time_to_recovery is not None:
            out["time_to_recovery"] = self.time_to_recovery.as_dict()
        if self.adjusted is not None:
            out["observed_minus_expected"] = {k: v.as_dict() for k, v in self.adjusted.items()}
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "referrals": self.referrals, "evaluated": self.evaluated,
            "discharged": self.discharged, "conversion_rate": self.conversion_rate,
            "median_days_to_first_visit": self.median_days_to_first_visit,
            "median_visits": self.median_visits,
            "outcomes": {k: v.as_dict() for k, v in self.outcomes.items()},
            "nps": self.nps.as_dict(),
            "funnel": self.funnel.as_dict(),
            "packet_effect": self.packet_effect.as_dict(),
            "primary": self.primary.as_dict(),
            "by_condition": [c.as_dict() for c in self.by_condition],
            "by_procedure": [c.as_dict() for c in self.by_procedure],
            **self.evidence_dict(),
        }


@dataclass(frozen=True)
class PartnerFigures(Figures):
    partner_id: int = 0
    name: str = ""
    npi: str | None = None
    kind: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "name": self.name, "npi": self.npi,
                "kind": self.kind, **super().as_dict()}


@dataclass(frozen=True)
class Scorecard:
    """The scorecard over ``start``..``end``; :meth:`as_dict` is the JSON of
    ``outcomes scorecard --json`` (docs/reports.md)."""

    start: date
    end: date
    min_n: int
    clinic: Figures
    partners: list[PartnerFigures]

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "min_n": self.min_n, "clinic": self.clinic.as_dict(),
                "partners": [p.as_dict() for p in self.partners]}

    def partner(self, partner_id: int) -> PartnerFigures:
        for figures in self.partners:
            if figures.partner_id == partner_id:
                return figures
        raise KeyError(partner_id)


# Key of the clinic-wide aggregates in the internal dictionaries (partner ids are ints or None).
_CLINIC = "clinic"

# Instruments that are not outcome measures (the NPS question) never appear under "outcomes".
_NOT_OUTCOMES = frozenset({"nps"})


def default_period(today: date) -> tuple[date, date]:
    """The default scorecard period (``outcomes.periods.default_period``) as (start, end)."""
    period = periods.default_period(today)
    return period.start, period.end


def check_period(start: date, end: date) -> None:
    periods.check_period(start, end)


def median_from_counts(counts: Mapping[float, int]) -> float | None:
    """Median of a distribution given as {value: how many}; None when empty."""
    total = sum(counts.values())
    if total == 0:
        return None
    ordered = sorted(counts.items())
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    lower = upper = None
    seen = 0
    for value, count in ordered:
        if lower is None and seen + count > lower_rank:
            lower = value
        if seen + count > upper_rank:
            upper = value
            break
        seen += count
    assert lower is not None and upper is not None
    return (float(lower) + float(upper)) / 2.0


class _Acc:
    """Running sums for one (group, scale, carried_forward) cell."""

    __slots__ = ("final", "improvement", "intake", "judged", "met", "n")

    def __init__(self) -> None:
        self.n = 0
        self.intake = self.final = self.improvement = 0.0
        self.met = self.judged = 0

    def add(self, n: int, intake: float, final: float, improvement: float, met: int,
            judged: int) -> None:
        self.n += n
        self.intake += intake
        self.final += final
        self.improvement += improvement
        self.met += met
        self.judged += judged


class PoolCell:
    """Running sums for one (group, condition or procedure) cell of primary-measure pairs:
    patients, MCID reached, pairs judged, surgical. The group edition fills them from
    PostgreSQL and applies the same rules through :func:`pooled_figures`."""

    __slots__ = ("judged", "met", "n", "surgical")

    def __init__(self, n: int = 0, met: int = 0, judged: int = 0, surgical: int = 0) -> None:
        self.n, self.met, self.judged, self.surgical = n, met, judged, surgical

    def add(self, n: int, met: int, judged: int, surgical: int) -> None:
        self.n += n
        self.met += met
        self.judged += judged
        self.surgical += surgical


def pooled_figures(acc: PoolCell, min_n: int, name: str = "") -> PooledFigures:
    """Rate, interval and ``reached`` are null below ``min_n`` patients (``suppressed``) or
    when no pair could be judged; the counts stay."""
    suppressed = acc.n < min_n or acc.n == 0
    shown = not suppressed and acc.judged > 0
    ci = wilson(acc.met, acc.judged) if shown else None
    return PooledFigures(
        n=acc.n, judged=acc.judged, reached=acc.met if shown else None,
        mcid_rate=acc.met / acc.judged if shown else None,
        mcid_rate_ci95=(ci[0], ci[1]) if ci else None,
        suppressed=bool(acc.n) and acc.n < min_n, name=name, surgical=acc.surgical)


def ranked_figures(cells: Mapping[str, PoolCell], min_n: int) -> list[PooledFigures]:
    """The rows of one split (condition groups or procedures), largest first, then by name."""
    return [pooled_figures(acc, min_n, name) for name, acc in
            sorted(cells.items(), key=lambda kv: (-kv[1].n, kv[0].casefold()))]


# One grouped read of the primary-measure pairs of a period; the WHERE repeats the partial
# index's condition so that SQLite uses it (and never reads the table itself).
PRIMARY_SQL = (
    "SELECT coalesce(partner_id, 0), condition_group, procedure, count(*),"
    " total(mcid_met), count(mcid_met), total(surgical = 1)"
    " FROM episode_outcomes INDEXED BY episode_outcomes_primary"
    " WHERE is_primary = 1 AND carried_forward = 0 AND improvement IS NOT NULL"
    " AND referral_date BETWEEN ? AND ? GROUP BY 1, 2, 3")


def primary_cells(db: Queryable, start: date, end: date) -> list[tuple[Any, ...]]:
    """(partner id or 0, condition group, procedure, n, reached, judged, surgical) per cell."""
    return db.execute(PRIMARY_SQL, [start.isoformat(), end.isoformat()]).fetchall()


@dataclass(frozen=True)
class ConditionFigures:
    """The primary-measure figures of one group of patients (a partner's or the clinic's)."""

    primary: PooledFigures
    by_condition: list[PooledFigures]
    by_procedure: list[PooledFigures]


def condition_figures(db: Queryable, start: date, end: date, *, min_n: int,
                      partner_id: int | None = None) -> ConditionFigures:
    """:attr:`Figures.primary`, ``by_condition`` and ``by_procedure`` of one partner (the
    whole clinic when ``partner_id`` is None) without the rest of the scorecard."""
    periods.check_period(start, end)
    pooled = PoolCell()
    by_condition: dict[str, PoolCell] = defaultdict(PoolCell)
    by_procedure: dict[str, PoolCell] = defaultdict(PoolCell)
    for key, condition, procedure, n, met, judged, operated in primary_cells(db, start, end):
        if partner_id is not None and key != partner_id:
            continue
        amounts = (int(n), int(met), int(judged), int(operated))
        pooled.add(*amounts)
        by_condition[condition or "Other condition"].add(*amounts)
        if procedure:
            by_procedure[procedure].add(*amounts)
    return ConditionFigures(pooled_figures(pooled, min_n), ranked_figures(by_condition, min_n),
                            ranked_figures(by_procedure, min_n))


def _outcome_block(acc: _Acc, min_n: int, has_mcid: bool) -> OutcomeFigures:
    suppressed = acc.n < min_n or acc.n == 0
    rate = acc.met / acc.judged if acc.judged and has_mcid else None
    ci = wilson(acc.met, acc.judged) if acc.judged and has_mcid else None
    return OutcomeFigures(
        n=acc.n,
        mean_intake=None if suppressed else acc.intake / acc.n,
        mean_final=None if suppressed else acc.final / acc.n,
        mean_improvement=None if suppressed else acc.improvement / acc.n,
        mcid_rate=None if suppressed else rate,
        mcid_rate_ci95=None if suppressed or ci is None else (ci[0], ci[1]),
        suppressed=bool(acc.n) and acc.n < min_n,
    )


def _scale_info(scale_id: str, known: Mapping[str, Instrument]) -> tuple[str, float | None,
                                                                            str | None]:
    """(instrument id, MCID value, MCID unit) of a scale; MCID None when none is published."""
    try:
        instrument, scale = _lookup(scale_id, known)
    except InstrumentError:
        return scale_id, None, None
    if scale.mcid is None:
        return instrument.id, None, None
    return instrument.id, scale.mcid.value, scale.mcid.unit


def _lookup(scale_id: str, known: Mapping[str, Instrument]) -> tuple[Any, Any]:
    from outcomes.measures.scoring import scale_by_id

    return scale_by_id(scale_id, known)


def _outcomes(cells: Mapping[tuple[str, int], _Acc],
              info: Mapping[str, tuple[str, float | None, str | None]],
              min_n: int) -> dict[str, ScaleFigures]:
    out: dict[str, ScaleFigures] = {}
    for scale_id in sorted({scale for scale, _ in cells}):
        main = cells.get((scale_id, 0)) or _Acc()
        carried = cells.get((scale_id, 1)) or _Acc()
        _instrument, mcid, unit = info[scale_id]
        block = _outcome_block(main, min_n, mcid is not None)
        out[scale_id] = ScaleFigures(
            **{f.name: getattr(block, f.name) for f in fields(OutcomeFigures)},
            mcid=mcid, mcid_unit=unit, n_carried_forward=carried.n,
            carried_forward=_outcome_block(carried, min_n, mcid is not None)
            if carried.n else None,
        )
    return out


def nps_figures(counts: tuple[int, int, int] | None, min_n: int) -> NpsFigures:
    nps = Nps(*(counts or (0, 0, 0)))
    suppressed = bool(nps.n) and nps.n < min_n
    return NpsFigures(n=nps.n, score=None if suppressed else nps.score,
                      moe95=None if suppressed else nps.moe95, promoters=nps.promoters,
                      passives=nps.passives, detractors=nps.detractors, suppressed=suppressed)


def nps_block(counts: tuple[int, int, int] | None, min_n: int) -> dict[str, Any]:
    """:func:`nps_figures` as JSON (the NPS analytics report uses this shape)."""
    return nps_figures(counts, min_n).as_dict()


def scorecard(
    db: Database,
    start: date,
    end: date,
    *,
    min_n: int | None = None,
    partner_ids: Iterable[int] | None = None,
    rollups: bool = True,
    evidence: bool = False,
    recovery: bool = False,
) -> Scorecard:
    """The scorecard for ``start``..``end`` (inclusive); ``as_dict()`` is the JSON shape of
    docs/reports.md.

    ``partner_ids``: list exactly these partners (even with nothing in the period); by default
    every partner with a referral or an NPS answer in the period. The clinic block always covers
    the whole clinic, including self-referred patients and NPS answers without an episode.

    ``evidence``: add time to recovery (Kaplan-Meier) and observed minus expected improvement
    per measure (the fitted models, ``outcomes model fit``). ``recovery``: time to recovery
    only, the cheaper half (docs/benchmarks.md). Both off by default: the group scorecard
    computes neither, and the two scorecards keep the same fields."""
    if min_n is None:
        min_n = int(settings.get(db, "min_n"))
    return scorecards(db, start, end, (min_n,), partner_ids=partner_ids, rollups=rollups,
                      evidence=evidence, recovery=recovery)[0]


def scorecards(
    db: Database,
    start: date,
    end: date,
    min_ns: Sequence[int],
    *,
    partner_ids: Iterable[int] | None = None,
    rollups: bool = True,
    evidence: bool = False,
    recovery: bool = False,
) -> list[Scorecard]:
    """:func:`scorecard` at each of ``min_ns``, from one read of the database (the packet needs
    the true small numbers, at min_n 0, beside the figures it may print)."""
    periods.check_period(start, end)
    known = catalog.instruments()

    # rollups=False reads raw rows only: the reference the rollups are tested against.
    split = periods.split_months(start, end) if rollups else periods.whole_days(
        periods.Period(start, end))
    counts: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
    visits: dict[Any, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    days: dict[Any, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    cells: dict[Any, dict[tuple[str, int], _Acc]] = defaultdict(dict)
    nps: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])

    def partner(key: int) -> Any:
        return None if key == rollup_readers.NO_PARTNER else key

    for key, (n, evaluated, discharged) in rollup_readers.episode_counts(db, split).items():
        for group in (partner(key), _CLINIC):
            row = counts[group]
            row[0] += n
            row[1] += evaluated
            row[2] += discharged
    for target, what in ((visits, "visits"), (days, "days")):
        for key, dist in rollup_readers.distribution(db, what, split).items():
            for value, n in dist.items():
                target[partner(key)][value] += n
                target[_CLINIC][value] += n
    for key, scale, instrument, carried, n, s_in, s_out, s_imp, met, judged in (
            rollup_readers.outcome_sums(db, split)):
        if instrument in _NOT_OUTCOMES or not n:
            continue
        for group in (partner(key), _CLINIC):
            acc = cells[group].setdefault((scale, int(carried)), _Acc())
            acc.add(int(n), float(s_in or 0), float(s_out or 0), float(s_imp or 0),
                    int(met or 0), int(judged or 0))
    for key, triple in rollup_readers.nps_by_partner(db, split).items():
        for group in (partner(key), _CLINIC):
            row = nps[group]
            for i in range(3):
                row[i] += triple[i]

    info = {scale: _scale_info(scale, known)
            for group in cells.values() for scale, _carried in group}

    pooled: dict[Any, PoolCell] = defaultdict(PoolCell)
    by_condition: dict[Any, dict[str, PoolCell]] = defaultdict(lambda: defaultdict(PoolCell))
    by_procedure: dict[Any, dict[str, PoolCell]] = defaultdict(lambda: defaultdict(PoolCell))
    for key, condition, procedure, n, met, judged, operated in primary_cells(db, start, end):
        amounts = (int(n), int(met), int(judged), int(operated))
        for group in (partner(key), _CLINIC):
            pooled[group].add(*amounts)
            by_condition[group][condition or "Other condition"].add(*amounts)
            if procedure:
                by_procedure[group][procedure].add(*amounts)

    funnels = rollup_readers.funnels(db, split)
    clinic_funnel = frontdesk.Funnel()
    for one in funnels.values():
        clinic_funnel = _add_funnels(clinic_funnel, one)
    effects = packet_effect.packet_effects(db, end)

    def figures(key: Any, min_n: int) -> dict[str, Any]:
        referrals, evaluated, discharged = counts.get(key, [0, 0, 0])
        n_nps = nps.get(key)
        n_visits = sum(visits.get(key, {}).values())
        return {
            "referrals": referrals, "evaluated": evaluated, "discharged": discharged,
            "conversion_rate": evaluated / referrals if referrals else None,
            "median_days_to_first_visit": median_from_counts(days.get(key, {}))
            if evaluated >= min_n else None,
            "median_visits": median_from_counts(visits.get(key, {}))
            if n_visits >= min_n else None,
            "outcomes": _outcomes(cells.get(key, {}), info, min_n),
            "nps": nps_figures((n_nps[0], n_nps[1], n_nps[2]) if n_nps else None, min_n),
            "funnel": clinic_funnel if key == _CLINIC else funnels.get(key, frontdesk.Funnel()),
            "packet_effect": packet_effect.pooled(
                effects if key == _CLINIC else [e for e in effects if e.partner_id == key]),
            "primary": pooled_figures(pooled.get(key) or PoolCell(), min_n),
            "by_condition": ranked_figures(by_condition.get(key, {}), min_n),
            "by_procedure": ranked_figures(by_procedure.get(key, {}), min_n),
        }

    if partner_ids is None:
        wanted = sorted({k for k in (*counts, *nps) if k not in (_CLINIC, None)})
    else:
        wanted = sorted(set(partner_ids))
    identity = _partners(db, wanted)
    missing = [pid for pid in wanted if pid not in identity]
    if missing:
        raise ValidationError(f"No partner with id {missing[0]}.")
    cards = []
    for min_n in min_ns:
        partners = []
        for pid in wanted:
            name, npi, kind = identity[pid]
            partners.append(PartnerFigures(partner_id=pid, name=name, npi=npi, kind=kind,
                                           **figures(pid, min_n)))
        partners.sort(key=lambda p: (-p.referrals, p.name.casefold(), p.partner_id))
        card = Scorecard(start=start, end=end, min_n=min_n,
                         clinic=Figures(**figures(_CLINIC, min_n)), partners=partners)
        cards.append(with_evidence(db, card, adjusted=evidence) if evidence or recovery
                     else card)
    return cards


def with_evidence(db: Database, card: Scorecard, *, adjusted: bool = True) -> Scorecard:
    """``card`` with each block's time to recovery and, with ``adjusted``, observed minus
    expected per measure."""
    from dataclasses import replace

    from outcomes.reports.adjusted import adjusted_everywhere
    from outcomes.reports.recovery import CLINIC, RecoveryCurve, recovery_by_partner

    period = periods.Period(card.start, card.end)
    curves = recovery_by_partner(db, period, min_n=card.min_n)
    none = RecoveryCurve(n=0, recovered=0, censored=0, median_days=None, median_ci_days=None,
                         steps=None)
    if not adjusted:
        return replace(
            card, clinic=replace(card.clinic, time_to_recovery=curves.get(CLINIC, none)),
            partners=[replace(p, time_to_recovery=curves.get(p.partner_id, none))
                      for p in card.partners])
    everywhere = adjusted_everywhere(db, period, min_n=card.min_n)
    by_scale = {scale: partners for scale, (partners, _clinic) in everywhere.items()}
    clinic_adjusted = {scale: clinic for scale, (_partners, clinic) in everywhere.items()}

    def block(pid: int) -> dict[str, Any]:
        return {s: found[pid] for s, found in by_scale.items() if pid in found}

    return replace(
        card, clinic=replace(card.clinic, time_to_recovery=curves.get(CLINIC, none),
                             adjusted=clinic_adjusted),
        partners=[replace(p, time_to_recovery=curves.get(p.partner_id, none),
                          adjusted=block(p.partner_id)) for p in card.partners])



def _add_funnels(a: frontdesk.Funnel, b: frontdesk.Funnel) -> frontdesk.Funnel:
    reasons = dict(a.not_scheduled)
    for reason, n in b.not_scheduled.items():
        reasons[reason] = reasons.get(reason, 0) + n
    return frontdesk.Funnel(
        a.received + b.received, a.scheduled + b.scheduled, a.evaluated + b.evaluated,
        a.completed + b.completed, a.self_discharged + b.self_discharged,
        a.waiting + b.waiting, a.cancelled + b.cancelled,
        dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))))


def _partners(db: Database, ids: list[int]) -> dict[int, tuple[str, str | None, str]]:
    found: dict[int, tuple[str, str | None, str]] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for pid, name, npi, kind in db.execute(
            f"SELECT id, name, npi, kind FROM partners WHERE id IN ({', '.join('?' * len(chunk))})",
            chunk,
        ):
            found[pid] = (name, npi, kind)
    return found


__all__ = ["ConditionFigures", "Figures", "NpsFigures", "OutcomeFigures", "PartnerFigures",
           "PoolCell", "PooledFigures", "ScaleFigures", "Scorecard", "check_period",
           "condition_figures", "default_period", "median_from_counts", "pooled_figures",
           "primary_cells", "ranked_figures", "scorecard", "scorecards"]
