"""Risk-adjusted outcomes from the database: the rows the model is fitted on, fitting and
storing a model per measure (``outcomes model fit``), loading the latest, and each partner's
mean observed minus expected improvement. The statistics are in
``outcomes.reports.riskmodel`` (pure).

An episode enters a measure's model with an intake/discharge pair on that scale (pairs whose
final score was carried forward from a progress score are left out, as in every main figure)
and a first visit date. Its predictors: the intake score; the age band at the first visit
(``episodes.age_band``, kept current from the patient's birth date by the database, so this
module never reads ``patients``); the days
from onset to the first visit (unknown without an onset date, or with one after the first
visit); the condition group (``groups``: episode id -> group; the body region until conditions
are recorded); whether the episode was surgical (``surgical``: episode id -> bool; the term is
left out while nothing is recorded).
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlite_utils import Database

from outcomes import periods
from outcomes.dates import now_iso
from outcomes.errors import InstrumentError, ValidationError
from outcomes.measures import catalog, scoring
from outcomes.reports.riskmodel import (
    Adjusted,
    Columns,
    Covariates,
    RiskModel,
    fit,
    observed_minus_predicted,
)
from outcomes.store import audit, settings
from outcomes.store.database import Queryable, transaction

MIN_TO_FIT = 12
"""Below this many episodes a measure is not fitted at all (nothing to validate)."""

TOLERANCE_OF_MCID = 0.25
"""A decile within a quarter of the MCID of its prediction is calibrated whatever its
interval: a gap that small changes no reading of a referrer's figure."""

# Instruments that are not outcome measures.
_NOT_OUTCOMES = frozenset({"nps"})


@dataclass(frozen=True)
class ModelRows:
    """One measure's episodes, in episode id order, one list per field (a list of objects
    would cost seconds to build on a large clinic)."""

    scale: str
    episode_ids: list[str] = field(default_factory=list)
    partner_ids: list[int | None] = field(default_factory=list)
    intake: list[float] = field(default_factory=list)
    age_bands: list[str | None] = field(default_factory=list)
    onset_days: list[float | None] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    surgical: list[bool | None] = field(default_factory=list)
    improvement: list[float] = field(default_factory=list)

    @property
    def covariates(self) -> list[Covariates]:
        return [Covariates(intake=i, age_band=a, onset_days=d, group=g, surgical=s)
                for i, a, d, g, s in zip(self.intake, self.age_bands, self.onset_days,
                                         self.groups, self.surgical, strict=True)]

    def columns(self) -> Columns:
        return Columns.build(self.intake, self.age_bands, self.onset_days, self.groups,
                             self.surgical)

    def expected(self, model: RiskModel) -> list[float]:
        """The model's expected improvement of every row, in order."""
        return model.predict_columns(self.columns()) if self.intake else []


# Days are computed by SQLite, once per row, instead of parsing two dates per row in Python (a
# large clinic has a few hundred thousand pairs). julianday() is NULL for a missing or malformed
# date, so those become unknown.
_ROWS_SQL = """
SELECT o.scale, o.episode_id, o.partner_id, o.intake_score, o.improvement,
    CAST(julianday(e.first_visit_date) - julianday(e.onset_date) AS INTEGER),
    e.body_region, e.age_band
FROM episode_outcomes o JOIN episodes e ON e.id = o.episode_id
WHERE o.carried_forward = 0 AND o.improvement IS NOT NULL AND o.intake_score IS NOT NULL
    AND julianday(e.first_visit_date) IS NOT NULL
"""


def _read_rows(db: Queryable, scales: list[str] | None, *, period: periods.Period | None,
               partner_id: int | None, groups: Mapping[str, str] | None,
               surgical: Mapping[str, bool] | None) -> dict[str, ModelRows]:
    sql = _ROWS_SQL
    params: list[Any] = []
    if scales is not None:
        sql += f" AND o.scale IN ({', '.join('?' * len(scales))})"
        params += scales
    if period is not None:
        sql += " AND o.referral_date BETWEEN ? AND ?"
        params += list(period.iso())
    if partner_id is not None:
        sql += " AND o.partner_id = ?"
        params.append(partner_id)
    sql += " ORDER BY o.scale, o.episode_id"
    out: dict[str, ModelRows] = {s: ModelRows(s) for s in scales or []}
    group_of = groups or {}
    surgical_of = surgical or {}
    # Rows come sorted by scale: each scale's run is turned into columns at once (appending to
    # eight lists per row cost a third of a second on a large clinic's year).
    for scale, run in itertools.groupby(db.execute(sql, params).fetchall(), key=itemgetter(0)):
        _s, eids, pids, intakes, improvements, days, regions, bands = zip(*run, strict=True)
        out[scale] = ModelRows(
            scale, episode_ids=list(eids), partner_ids=list(pids),
            intake=[float(v) for v in intakes], age_bands=list(bands),
            onset_days=[None if d is None or d < 0 else float(d) for d in days],
            groups=([group_of.get(e) or r for e, r in zip(eids, regions, strict=True)]
                    if group_of else list(regions)),
            surgical=[surgical_of.get(e) for e in eids],
            improvement=[float(v) for v in improvements])
    return out


def model_rows(db: Queryable, scale: str, *, period: periods.Period | None = None,
               partner_id: int | None = None, groups: Mapping[str, str] | None = None,
               surgical: Mapping[str, bool] | None = None) -> ModelRows:
    """The episodes of one scale with an intake/discharge pair (referred in ``period`` and sent
    by ``partner_id`` when given)."""
    return _read_rows(db, [scale], period=period, partner_id=partner_id, groups=groups,
                      surgical=surgical)[scale]


def tolerance(scale_id: str, intakes: list[float]) -> float:
    """A quarter of the scale's MCID in points (a percent MCID taken of the mean intake);
    0 for a scale without one."""
    try:
        _, scale = scoring.scale_by_id(scale_id, catalog.instruments())
    except InstrumentError:  # a scale no longer defined has no clinical tolerance
        return 0.0
    if scale.mcid is None:
        return 0.0
    if scale.mcid.unit == "points":
        return TOLERANCE_OF_MCID * scale.mcid.value
    mean_intake = sum(abs(v) for v in intakes) / len(intakes) if intakes else 0.0
    return TOLERANCE_OF_MCID * scale.mcid.value / 100.0 * mean_intake


def measured_scales(db: Queryable) -> list[tuple[str, int]]:
    """Every outcome scale with intake/discharge pairs, and how many."""
    return [(scale, n) for scale, instrument, n in db.execute(
        "SELECT scale, min(instrument), count(*) FROM episode_outcomes"
        " WHERE carried_forward = 0 AND improvement IS NOT NULL GROUP BY scale ORDER BY scale")
        if instrument not in _NOT_OUTCOMES]


@dataclass(frozen=True)
class FitResult:
    """What ``outcomes model fit`` did: the models stored, and the measures left unfitted."""

    models: list[RiskModel]
    skipped: dict[str, int]
    """Scale -> episodes, for measures with fewer than ``MIN_TO_FIT``."""

    def message(self) -> str:
        parts = [f"{m.scale}: n={m.n}, {'validates' if m.validates else 'does not validate'}"
                 for m in self.models]
        parts += [f"{s}: {n} episodes, not fitted" for s, n in self.skipped.items()]
        return f"Fitted {len(self.models)} model(s). " + "; ".join(parts)


def fit_models(db: Database, *, scales: list[str] | None = None,
               groups: Mapping[str, str] | None = None,
               surgical: Mapping[str, bool] | None = None) -> FitResult:
    """Fit one model per measure on all the clinic's episodes and store them (one
    transaction, with an audit row)."""
    available = dict(measured_scales(db))
    wanted = scales if scales is not None else sorted(available)
    unknown = [s for s in wanted if s not in available]
    if unknown:
        raise ValidationError(
            f"No intake/discharge pairs on {unknown[0]!r}; measures with pairs: "
            f"{', '.join(sorted(available)) or 'none yet'}.")
    fitted_at = now_iso()
    models: list[RiskModel] = []
    skipped: dict[str, int] = {}
    every = _read_rows(db, wanted, period=None, partner_id=None, groups=groups,
                       surgical=surgical)
    for scale in wanted:
        rows = every[scale]
        if len(rows.intake) < MIN_TO_FIT:
            skipped[scale] = len(rows.intake)
            continue
        try:
            model = fit(scale, rows.columns(), rows.improvement,
                        tolerance=tolerance(scale, rows.intake), fitted_at=fitted_at)
        except ValueError:
            skipped[scale] = len(rows.intake)
            continue
        models.append(model)
    with transaction(db):
        db.conn.executemany(
            "INSERT INTO outcome_models (scale, fitted_at, n, validates, model)"
            " VALUES (?, ?, ?, ?, ?)",
            [(m.scale, m.fitted_at, m.n, int(m.validates), json.dumps(m.as_dict()))
             for m in models])
        audit.log(db, "fit", "outcome_models",
                  models={m.scale: {"n": m.n, "validates": m.validates} for m in models},
                  skipped=skipped)
    return FitResult(models, skipped)


def load_model(db: Queryable, scale: str) -> RiskModel | None:
    """The latest fitted model of a scale, or None when none was fitted."""
    row = db.execute("SELECT model FROM outcome_models WHERE scale = ? ORDER BY id DESC"
                     " LIMIT 1", [scale]).fetchone()
    return None if row is None else RiskModel.from_dict(json.loads(row[0]))


def load_models(db: Queryable) -> dict[str, RiskModel]:
    """The latest model of every fitted scale."""
    return {scale: RiskModel.from_dict(json.loads(model)) for scale, model in db.execute(
        "SELECT scale, model FROM outcome_models WHERE id IN"
        " (SELECT max(id) FROM outcome_models GROUP BY scale) ORDER BY scale")}


def _not_fitted(scale: str, n: int) -> Adjusted:
    return Adjusted(scale, n, None, None, None, None,
                    "no model is fitted for this measure (outcomes model fit)")


def observed_minus_expected(db: Queryable, partner_id: int | None, scale: str,
                            period: periods.Period, *, groups: Mapping[str, str] | None = None,
                            surgical: Mapping[str, bool] | None = None,
                            min_n: int | None = None) -> Adjusted:
    """One partner's mean observed minus expected improvement on ``scale`` for episodes
    referred in ``period`` (the whole clinic's with None), under the latest stored model.
    Shown (``mean`` not None) only when the model validates and n >= min_n."""
    limit = int(settings.get(db, "min_n")) if min_n is None else min_n
    rows = model_rows(db, scale, period=period, partner_id=partner_id, groups=groups,
                      surgical=surgical)
    model = load_model(db, scale)
    if model is None:
        return _not_fitted(scale, len(rows.intake))
    return observed_minus_predicted(model, rows.expected(model), rows.improvement, min_n=limit)


def adjusted_by_partner(db: Queryable, scale: str, period: periods.Period, *,
                        groups: Mapping[str, str] | None = None,
                        surgical: Mapping[str, bool] | None = None,
                        min_n: int | None = None) -> dict[int | None, Adjusted]:
    """Every partner's observed minus expected on ``scale`` (None: self-referred), from one
    read: what a scorecard needs."""
    limit = int(settings.get(db, "min_n")) if min_n is None else min_n
    rows = model_rows(db, scale, period=period, groups=groups, surgical=surgical)
    return _by_partner(rows, load_model(db, scale), limit)[0]


def _by_partner(rows: ModelRows, model: RiskModel | None, limit: int
                ) -> tuple[dict[int | None, Adjusted], Adjusted]:
    """Each partner's figure and the clinic's, from one measure's rows predicted once."""
    by: dict[int | None, list[int]] = defaultdict(list)
    for i, pid in enumerate(rows.partner_ids):
        by[pid].append(i)
    if model is None:
        return ({pid: _not_fitted(rows.scale, len(idx)) for pid, idx in by.items()},
                _not_fitted(rows.scale, len(rows.intake)))
    expected = rows.expected(model)
    observed = rows.improvement
    result = {pid: observed_minus_predicted(model, [expected[i] for i in idx],
                                            [observed[i] for i in idx], min_n=limit)
              for pid, idx in by.items()}
    return result, observed_minus_predicted(model, expected, observed, min_n=limit)


def adjusted_everywhere(db: Queryable, period: periods.Period, *, min_n: int | None = None
                        ) -> dict[str, tuple[dict[int | None, Adjusted], Adjusted]]:
    """Per outcome scale with intake/discharge pairs in ``period`` or a fitted model: every
    partner's observed minus expected and the clinic's, for episodes referred in ``period``,
    from one read of every scale's rows and one prediction per row: what the scorecard's
    evidence needs. Equal to :func:`adjusted_by_partner` and :func:`observed_minus_expected`
    (clinic) per scale."""
    limit = int(settings.get(db, "min_n")) if min_n is None else min_n
    every = _read_rows(db, None, period=period, partner_id=None, groups=None, surgical=None)
    models = load_models(db)
    skip = {scale for iid in _NOT_OUTCOMES if iid in catalog.instruments()
            for scale in catalog.instruments()[iid].scales}
    scales = sorted((set(every) | set(models)) - skip)
    return {scale: _by_partner(every.get(scale) or ModelRows(scale), models.get(scale), limit)
            for scale in scales}


def _partner_names(db: Queryable, ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        names.update(db.execute(
            f"SELECT id, name FROM partners WHERE id IN ({', '.join('?' * len(chunk))})",
            chunk).fetchall())
    return names


def model_report(db: Queryable, period: periods.Period, *, scales: list[str] | None = None,
                 partner_id: int | None = None, groups: Mapping[str, str] | None = None,
                 surgical: Mapping[str, bool] | None = None,
                 min_n: int | None = None) -> dict[str, Any]:
    """What ``outcomes model report`` prints (its ``--json``): per stored model, the fit
    (coefficients with standard errors, R-squared, cross-validated error, calibration by
    decile, the verdict and its reasons) and each partner's observed minus expected for
    episodes referred in ``period`` (one partner's with ``partner_id``)."""
    limit = int(settings.get(db, "min_n")) if min_n is None else min_n
    models = load_models(db)
    wanted = scales if scales is not None else sorted(models)
    missing = [s for s in wanted if s not in models]
    if missing:
        raise ValidationError(
            f"No model is fitted for {missing[0]!r} (outcomes model fit); fitted: "
            f"{', '.join(sorted(models)) or 'none yet'}.")
    out: list[dict[str, Any]] = []
    for scale in wanted:
        model = models[scale]
        if partner_id is None:
            adjusted = adjusted_by_partner(db, scale, period, groups=groups, surgical=surgical,
                                           min_n=limit)
        else:
            adjusted = {partner_id: observed_minus_expected(
                db, partner_id, scale, period, groups=groups, surgical=surgical, min_n=limit)}
        names = _partner_names(db, [k for k in adjusted if k is not None])
        partners = [{"partner_id": pid, "name": names.get(pid, "(self-referred)")
                     if pid is not None else "(self-referred)", **a.as_dict()}
                    for pid, a in adjusted.items()]
        partners.sort(key=lambda r: (-r["n"], str(r["name"]).casefold()))
        out.append({
            "scale": scale, "fitted_at": model.fitted_at, "n": model.n,
            "validates": model.validates, "reasons": list(model.reasons),
            "r2": model.r2, "residual_sd": model.residual_sd, "cv_rmse": model.cv_rmse,
            "cv_r2": model.cv_r2, "tolerance": model.tolerance,
            "coefficients": [{"term": t, "estimate": b, "std_error": se}
                             for t, b, se in zip(model.design.terms, model.coefficients,
                                                 model.std_errors, strict=True)],
            "references": {"age_band": model.design.age_reference,
                           "group": model.design.group_reference},
            "calibration": [{"decile": i + 1, "n": d.n, "mean_predicted": d.mean_predicted,
                             "mean_observed": d.mean_observed, "half_width": d.half_width,
                             "ok": d.ok} for i, d in enumerate(model.calibration)],
            "partners": partners,
        })
    start, end = period.iso()
    return {"from": start, "to": end, "min_n": limit, "models": out}


__all__ = ["MIN_TO_FIT", "FitResult", "ModelRows", "adjusted_by_partner", "adjusted_everywhere",
           "fit_models", "load_model", "load_models", "measured_scales", "model_report",
           "model_rows", "observed_minus_expected", "tolerance"]
