"""The outcomes scorecard: per partner and for the whole clinic, over a period.

Episodes count in the period by referral date; NPS answers by response date (an answer belongs to
a partner through its episode's referrer; answers without an episode count clinic-wide only).
Everything is read from ``episodes``, ``episode_outcomes`` and ``nps_responses`` with a handful of
grouped queries; ``patients`` is never read, so no identity can reach a scorecard.

Outcome pairs whose final score was carried forward from a progress score (the patient stopped
attending before a discharge score) are never mixed into the main figures: ``n`` and the means
and rates count intake/discharge pairs only; ``n_carried_forward`` and the ``carried_forward``
block describe the carried-forward pairs on their own.

Suppression (``min_n``): a figure that describes patients' outcomes or experience (means, MCID
rates and intervals, medians, NPS score and margin) is null when it rests on fewer than ``min_n``
patients, with ``"suppressed": true``. Counts stay: the scorecard is the clinic's own report.
Evidence packets, which leave the clinic, suppress more (see
``outcomes.documents.packets.content``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes import periods
from outcomes.errors import InstrumentError, ValidationError
from outcomes.measures import catalog
from outcomes.measures.instruments import Instrument
from outcomes.reports import rollups as rollup_readers
from outcomes.reports.statistics import Nps, wilson
from outcomes.store import settings

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


def _outcome_block(acc: _Acc, min_n: int) -> dict[str, Any]:
    suppressed = acc.n < min_n or acc.n == 0
    rate = acc.met / acc.judged if acc.judged else None
    ci = wilson(acc.met, acc.judged) if acc.judged else None
    block: dict[str, Any] = {
        "n": acc.n,
        "mean_intake": None if suppressed else acc.intake / acc.n,
        "mean_final": None if suppressed else acc.final / acc.n,
        "mean_improvement": None if suppressed else acc.improvement / acc.n,
        "mcid_rate": None if suppressed else rate,
        "mcid_rate_ci95": None if suppressed or ci is None else [ci[0], ci[1]],
    }
    if acc.n and acc.n < min_n:
        block["suppressed"] = True
    return block


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
              min_n: int) -> dict[str, Any]:
    scales = sorted({scale for scale, _ in cells})
    out: dict[str, Any] = {}
    for scale_id in scales:
        main = cells.get((scale_id, 0)) or _Acc()
        carried = cells.get((scale_id, 1)) or _Acc()
        _instrument, mcid, unit = info[scale_id]
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


def nps_block(counts: tuple[int, int, int] | None, min_n: int) -> dict[str, Any]:
    summary = Nps(*(counts or (0, 0, 0))).as_dict()
    if summary["n"] and int(summary["n"] or 0) < min_n:
        summary["score"] = summary["moe95"] = None
        summary["suppressed"] = True
    return summary


def scorecard(
    db: Database,
    start: date,
    end: date,
    *,
    min_n: int | None = None,
    partner_ids: Iterable[int] | None = None,
    rollups: bool = True,
) -> dict[str, Any]:
    """The scorecard for ``start``..``end`` (inclusive), in the JSON shape of docs/reports.md.

    ``partner_ids``: list exactly these partners (even with nothing in the period); by default
    every partner with a referral or an NPS answer in the period. The clinic block always covers
    the whole clinic, including self-referred patients and NPS answers without an episode."""
    periods.check_period(start, end)
    if min_n is None:
        min_n = int(settings.get(db, "min_n"))
    period = [start.isoformat(), end.isoformat()]
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

    def block(key: Any) -> dict[str, Any]:
        referrals, evaluated, discharged = counts.get(key, [0, 0, 0])
        n_nps = nps.get(key)
        median_days = median_from_counts(days.get(key, {}))
        median_visits = median_from_counts(visits.get(key, {}))
        n_visits = sum(visits.get(key, {}).values())
        return {
            "referrals": referrals,
            "evaluated": evaluated,
            "discharged": discharged,
            "conversion_rate": evaluated / referrals if referrals else None,
            "median_days_to_first_visit": median_days if evaluated >= min_n else None,
            "median_visits": median_visits if n_visits >= min_n else None,
            "outcomes": _outcomes(cells.get(key, {}), info, min_n),
            "nps": nps_block(tuple(n_nps) if n_nps else None, min_n),  # type: ignore[arg-type]
        }

    if partner_ids is None:
        wanted = sorted({k for k in (*counts, *nps) if k not in (_CLINIC, None)})
    else:
        wanted = sorted(set(partner_ids))
    identity = _partners(db, wanted)
    missing = [pid for pid in wanted if pid not in identity]
    if missing:
        raise ValidationError(f"No partner with id {missing[0]}.")
    partners = []
    for pid in wanted:
        name, npi, kind = identity[pid]
        partners.append({"partner_id": pid, "name": name, "npi": npi, "kind": kind,
                         **block(pid)})
    partners.sort(key=lambda p: (-p["referrals"], p["name"].casefold(), p["partner_id"]))
    return {"from": period[0], "to": period[1], "min_n": min_n, "clinic": block(_CLINIC),
            "partners": partners}


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


__all__ = ["check_period", "default_period", "median_from_counts", "scorecard"]
