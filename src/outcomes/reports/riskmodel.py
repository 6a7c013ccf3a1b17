"""The risk-adjustment model, pure: an ordinary least-squares model of each measure's
improvement on what the patient brought to the first visit, its validation, and the observed
minus expected improvement of a group of patients.

No I/O: the reader that builds the rows from the database, and stores and loads fitted
models, is ``outcomes.reports.adjusted``.

One module because the fit, the cross-validation, the calibration and the validation rule all
rest on one design (how covariates become columns, which columns are dropped) and one t
distribution: split apart, a change to the design could reach the fit and not its validation.

Why numpy and not statsmodels (docs/benchmarks.md has the figures): statsmodels brings pandas,
and sqlite-utils imports pandas at start-up whenever it is installed, which would cost every
command about a third of a second. numpy is already loaded (matplotlib depends on it and
sqlite-utils imports it), so the fit is numpy's Cholesky factor of the (equilibrated, refined)
normal equations and the standard errors are the textbook ``s^2 (X'X)^-1``, checked in the
tests against the normal equations solved exactly and against NIST's certified Longley fit.

The model (docs/reports.md, "Risk-adjusted outcomes"):

    improvement = b0 + b1 intake + b2 log(1 + days from onset to first visit)
                  + b3 [onset unknown] + age band + condition group + b4 surgical
                  + b5 [surgical unknown] + error

Categorical predictors are dummy-coded against their most common level; a level seen in fewer
than ``MIN_LEVEL`` episodes is counted with that reference level (a handful of patients cannot
carry a coefficient of their own), and so is a level the fit never saw, at prediction time.
A column with no variation is dropped, and so is a column the others already explain (the
design keeps full rank), so the fit never fails on a clinic's odd mix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from outcomes.studentt import t_quantile

if TYPE_CHECKING:
    import numpy as np

MIN_LEVEL = 10
"""A categorical level needs this many episodes to get its own coefficient."""

MIN_EPISODES = 50
"""A model validates only on at least this many episodes (and 10 per coefficient)."""

PER_COEFFICIENT = 10

FOLDS = 5
DECILES = 10
CONF = 0.95

UNKNOWN = "unknown"


def mean_ci(values: Sequence[float], conf: float = CONF) -> tuple[float, tuple[float, float]
                                                                   | None]:
    """Mean and its t-based interval (None below two values)."""
    n = len(values)
    if n == 0:
        raise ValueError("no values.")
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(0.5 + conf / 2, n - 1) * sd / math.sqrt(n)
    return mean, (mean - half, mean + half)


# --- rows and the design ---------------------------------------------------------------------


@dataclass(frozen=True)
class Covariates:
    """What the patient brought to the first visit, for one episode."""

    intake: float
    age_band: str | None = None
    onset_days: float | None = None
    """Days from onset to the first visit; None when the onset date is unknown."""
    group: str = UNKNOWN
    """Condition group (or the body region until conditions are recorded)."""
    surgical: bool | None = None


@dataclass(frozen=True)
class Design:
    """How covariates become columns: fixed at fit time, reused for every prediction."""

    terms: tuple[str, ...]
    age_levels: tuple[str, ...] = ()
    age_reference: str = UNKNOWN
    group_levels: tuple[str, ...] = ()
    group_reference: str = UNKNOWN

    def row(self, c: Covariates) -> list[float]:
        age = c.age_band or UNKNOWN
        age = age if age in self.age_levels else self.age_reference
        group = c.group if c.group in self.group_levels else self.group_reference
        onset = None if c.onset_days is None else min(max(c.onset_days, 0.0), 3650.0)
        values = {
            "intercept": 1.0,
            "intake": c.intake,
            "log_onset_days": 0.0 if onset is None else math.log1p(onset),
            "onset_unknown": 1.0 if onset is None else 0.0,
            "surgical": 1.0 if c.surgical else 0.0,
            "surgical_unknown": 1.0 if c.surgical is None else 0.0,
        }
        for level in self.age_levels:
            values[f"age:{level}"] = 1.0 if age == level else 0.0
        for level in self.group_levels:
            values[f"group:{level}"] = 1.0 if group == level else 0.0
        return [values[t] for t in self.terms]


def _codes(values: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """Names in sorted order and each value's index among them."""
    import numpy as np

    names = tuple(sorted(set(values)))
    index = {name: i for i, name in enumerate(names)}
    return names, np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))


def _levels(names: tuple[str, ...], codes: np.ndarray) -> tuple[str, tuple[str, ...]]:
    """(reference, levels with their own column): the reference is the most common level
    (the first by name on a tie)."""
    import numpy as np

    counts = np.bincount(codes, minlength=len(names))
    reference = int(np.argmax(counts))  # argmax takes the first maximum: names are sorted
    own = tuple(names[i] for i in range(len(names))
                if counts[i] >= MIN_LEVEL and i != reference)
    return names[reference], own


def make_design(rows: Sequence[Covariates]) -> Design:
    """The candidate columns for these rows (before dropping constant or aliased ones)."""
    if not rows:
        raise ValueError("no rows to fit.")
    return Columns.of(rows).design()


def _full_rank(design: Design, x: np.ndarray) -> tuple[Design, np.ndarray]:
    """Drop constant columns, then every column the ones before it already span."""
    import numpy as np

    gram = x.T @ x
    scale = max(1.0, float(np.abs(gram).max()))
    keep: list[int] = []
    for j, term in enumerate(design.terms):
        if term != "intercept" and np.ptp(x[:, j]) == 0.0:
            continue
        trial = [*keep, j]
        if np.linalg.matrix_rank(gram[np.ix_(trial, trial)], tol=1e-9 * scale) == len(trial):
            keep.append(j)
    terms = tuple(design.terms[j] for j in keep)
    return (Design(terms=terms, age_levels=design.age_levels, age_reference=design.age_reference,
                   group_levels=design.group_levels, group_reference=design.group_reference),
            x[:, keep])


@dataclass(frozen=True)
class Columns:
    """The covariates of many rows as columns (categories as integer codes), so a design
    matrix is built with array operations: a Python loop per row, or comparisons of string
    arrays, would cost seconds on a large clinic. Build with :meth:`of` (from
    :class:`Covariates`) or :meth:`build` (from one list per predictor, what a reader of many
    rows holds)."""

    intake: np.ndarray
    onset: np.ndarray
    surgical: np.ndarray
    age: np.ndarray
    age_names: tuple[str, ...]
    group: np.ndarray
    group_names: tuple[str, ...]

    @classmethod
    def of(cls, rows: Sequence[Covariates]) -> Columns:
        import numpy as np

        n = len(rows)
        age_names, age = _codes([r.age_band or UNKNOWN for r in rows])
        group_names, group = _codes([r.group for r in rows])
        return cls(
            intake=np.fromiter((r.intake for r in rows), dtype=float, count=n),
            onset=np.fromiter((math.nan if r.onset_days is None else r.onset_days
                               for r in rows), dtype=float, count=n),
            surgical=np.fromiter((math.nan if r.surgical is None else float(r.surgical)
                                  for r in rows), dtype=float, count=n),
            age=age, age_names=age_names, group=group, group_names=group_names)

    @classmethod
    def build(cls, intake: Sequence[float], age_bands: Sequence[str | None],
              onset_days: Sequence[float | None], groups: Sequence[str],
              surgical: Sequence[bool | None]) -> Columns:
        import numpy as np

        n = len(intake)
        if not len(age_bands) == len(onset_days) == len(groups) == len(surgical) == n:
            raise ValueError("the predictor lists differ in length.")
        age_names, age = _codes([a or UNKNOWN for a in age_bands])
        group_names, group = _codes(list(groups))
        return cls(
            intake=np.asarray(intake, dtype=float).reshape(n),
            onset=np.fromiter((math.nan if d is None else d for d in onset_days), dtype=float,
                              count=n),
            surgical=np.fromiter((math.nan if v is None else float(v) for v in surgical),
                                 dtype=float, count=n),
            age=age, age_names=age_names, group=group, group_names=group_names)

    def __len__(self) -> int:
        return int(self.intake.shape[0])

    def take(self, index: np.ndarray) -> Columns:
        return Columns(self.intake[index], self.onset[index], self.surgical[index],
                       self.age[index], self.age_names, self.group[index], self.group_names)

    def design(self) -> Design:
        import numpy as np

        age_ref, age_levels = _levels(self.age_names, self.age)
        group_ref, group_levels = _levels(self.group_names, self.group)
        terms = ["intercept", "intake", "log_onset_days", "onset_unknown"]
        terms += [f"age:{a}" for a in age_levels] + [f"group:{g}" for g in group_levels]
        if self.surgical.size and not bool(np.isnan(self.surgical).all()):
            terms += ["surgical", "surgical_unknown"]
        return Design(terms=tuple(terms), age_levels=age_levels, age_reference=age_ref,
                      group_levels=group_levels, group_reference=group_ref)

    def matrix(self, design: Design) -> np.ndarray:
        """The design's columns. A level without a column of its own (the reference, a rare
        level, one the fit never saw) has every dummy at 0: it is predicted as the
        reference."""
        import numpy as np

        n = self.intake.shape[0]
        unknown = np.isnan(self.onset)
        onset = np.clip(np.where(unknown, 0.0, self.onset), 0.0, 3650.0)
        age_code = {name: i for i, name in enumerate(self.age_names)}
        group_code = {name: i for i, name in enumerate(self.group_names)}
        out = np.empty((n, len(design.terms)))
        for j, term in enumerate(design.terms):
            if term.startswith("age:"):
                out[:, j] = self.age == age_code.get(term[4:], -1)
            elif term.startswith("group:"):
                out[:, j] = self.group == group_code.get(term[6:], -1)
            elif term == "intercept":
                out[:, j] = 1.0
            elif term == "intake":
                out[:, j] = self.intake
            elif term == "log_onset_days":
                out[:, j] = np.log1p(onset)
            elif term == "onset_unknown":
                out[:, j] = unknown
            elif term == "surgical":
                out[:, j] = self.surgical == 1.0
            elif term == "surgical_unknown":
                out[:, j] = np.isnan(self.surgical)
            else:  # pragma: no cover - a stored model from a newer version
                raise ValueError(f"unknown model term {term!r}.")
        return out


# --- the fit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ols:
    """An OLS fit: coefficients, their standard errors, R-squared and the residual SD."""

    coefficients: tuple[float, ...]
    std_errors: tuple[float, ...]
    r2: float
    residual_sd: float
    n: int


def ols(x: np.ndarray, y: np.ndarray) -> Ols:
    """Least squares of ``y`` on the columns of ``x`` (which must have full column rank and
    more rows than columns)."""
    import numpy as np

    n, p = x.shape
    if n <= p:
        raise ValueError(f"{n} observations cannot fit {p} coefficients.")
    # Normal equations on equilibrated columns (each scaled to unit length), solved by
    # Cholesky and refined twice against the residual: on NIST's ill-conditioned Longley data
    # this matches the certified coefficients to 1e-11, and it costs a third of a QR (which
    # must form Q) on many rows. The inverse gives the errors, s^2 (X'X)^-1.
    scale = np.sqrt((x * x).sum(axis=0))
    z = x / scale
    chol = np.linalg.cholesky(z.T @ z)

    def solve(b: np.ndarray) -> np.ndarray:
        return np.linalg.solve(chol.T, np.linalg.solve(chol, b))

    coef = solve(z.T @ y)
    for _ in range(2):
        coef = coef + solve(z.T @ (y - z @ coef))
    beta = coef / scale
    residuals = y - x @ beta
    sse = float(residuals @ residuals)
    sigma2 = sse / (n - p)
    cov = sigma2 * solve(np.eye(p)) / np.outer(scale, scale)
    sst = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - sse / sst if sst > 0 else 0.0
    return Ols(coefficients=tuple(float(b) for b in beta),
               std_errors=tuple(float(s) for s in np.sqrt(np.clip(np.diag(cov), 0, None))),
               r2=r2, residual_sd=math.sqrt(sigma2), n=n)


@dataclass(frozen=True)
class Decile:
    """Calibration in one tenth of the episodes, ordered by predicted improvement."""

    n: int
    mean_predicted: float
    mean_observed: float
    half_width: float | None
    """Half-width of the decile's interval for observed minus predicted (Bonferroni-adjusted
    over the ten deciles, so the ten together hold at 95%)."""
    ok: bool


def calibration(predicted: Sequence[float] | np.ndarray, observed: Sequence[float] | np.ndarray,
                *, tolerance: float = 0.0, groups: int = DECILES) -> list[Decile]:
    """Mean predicted against mean observed per decile of predicted. A decile is calibrated
    when observed minus predicted is within its Bonferroni-adjusted 95% interval, or within
    ``tolerance`` points (a difference too small to matter clinically)."""
    import numpy as np

    pred = np.asarray(predicted, dtype=float)
    obs = np.asarray(observed, dtype=float)
    n = pred.shape[0]
    order = np.argsort(pred, kind="stable")
    out = []
    for g in range(groups):
        idx = order[g * n // groups:(g + 1) * n // groups]
        if not idx.size:
            continue
        mean_pred = float(pred[idx].mean())
        mean_obs = float(obs[idx].mean())
        diffs = obs[idx] - pred[idx]
        half = None
        if diffs.size >= 2:
            half = t_quantile(1 - (1 - CONF) / (2 * groups), diffs.size - 1) \
                * float(diffs.std(ddof=1)) / math.sqrt(diffs.size)
        gap = abs(mean_obs - mean_pred)
        out.append(Decile(n=int(idx.size), mean_predicted=mean_pred, mean_observed=mean_obs,
                          half_width=half,
                          ok=gap <= tolerance or (half is not None and gap <= half)))
    return out


@dataclass(frozen=True)
class RiskModel:
    """A fitted, validated model for one scale; :meth:`as_dict` is what is stored."""

    scale: str
    design: Design
    coefficients: tuple[float, ...]
    std_errors: tuple[float, ...]
    n: int
    r2: float
    residual_sd: float
    cv_rmse: float | None
    cv_r2: float | None
    calibration: tuple[Decile, ...]
    tolerance: float
    validates: bool
    reasons: tuple[str, ...] = ()
    """Why the model does not validate (empty when it does)."""
    fitted_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def predict(self, c: Covariates) -> float:
        return math.fsum(b * v for b, v in zip(self.coefficients, self.design.row(c),
                                                strict=True))

    def predict_columns(self, data: Columns) -> list[float]:
        """:meth:`predict` of every row of ``data`` at once (one matrix product: a Python
        loop over a large clinic's rows would take about a second)."""
        import numpy as np

        predicted = data.matrix(self.design) @ np.asarray(self.coefficients, dtype=float)
        return [float(v) for v in predicted]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["design"] = asdict(self.design)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskModel:
        d = dict(data)
        design = d.pop("design")
        d["design"] = Design(
            terms=tuple(design["terms"]), age_levels=tuple(design["age_levels"]),
            age_reference=str(design["age_reference"]),
            group_levels=tuple(design["group_levels"]),
            group_reference=str(design["group_reference"]))
        d["calibration"] = tuple(Decile(**c) for c in d["calibration"])
        for key in ("coefficients", "std_errors", "reasons"):
            d[key] = tuple(d[key])
        return cls(**d)


def _fold_of(n: int, folds: int) -> list[int]:
    # Rows come sorted by episode id: every fifth row to a fold is deterministic (the same
    # data give the same figures) without a random seed to store.
    return [i % folds for i in range(n)]


def _design_and_matrix(data: Columns) -> tuple[Design, np.ndarray]:
    design = data.design()
    return _full_rank(design, data.matrix(design))


def _cv_downdated(x: np.ndarray, y: np.ndarray, fold: np.ndarray,
                  folds: int) -> np.ndarray | None:
    """Out-of-fold predictions from one design: each fold's normal equations are the whole
    sample's minus the fold's own rows (X'X - Xk'Xk, X'y - Xk'yk), so a fold costs a pass over
    its own rows, not a refit over all the others. None when a fold's training rows leave a
    column without support (the caller then refits fold by fold)."""
    import numpy as np

    scale = np.sqrt((x * x).sum(axis=0))
    z = x / scale
    gram, zy = z.T @ z, z.T @ y
    predicted = np.empty(y.shape[0])
    for k in range(folds):
        test = fold == k
        zk = z[test]
        if int((~test).sum()) <= x.shape[1]:
            return None
        try:
            chol = np.linalg.cholesky(gram - zk.T @ zk)
        except np.linalg.LinAlgError:
            return None
        coef = np.linalg.solve(chol.T, np.linalg.solve(chol, zy - zk.T @ y[test]))
        predicted[test] = zk @ coef
    return predicted


def cross_validate(rows: Sequence[Covariates] | Columns, y: Sequence[float],
                   folds: int = FOLDS) -> tuple[float, float] | None:
    """(RMSE, R-squared) of out-of-fold predictions: the coefficients are refitted without
    each fold in turn. The columns (which levels have their own, which are dropped) come from
    the predictors of all the episodes, never from their outcomes, so no outcome of the
    held-out fold reaches its prediction. None with fewer than two rows per fold."""
    import numpy as np

    data = rows if isinstance(rows, Columns) else Columns.of(rows)
    yy = np.asarray(y, dtype=float)
    n = yy.shape[0]
    if n < 2 * folds:
        return None
    fold = np.asarray(_fold_of(n, folds))
    _design, x = _design_and_matrix(data)
    predicted = _cv_downdated(x, yy, fold, folds)
    if predicted is None:
        predicted = _cv_refit(data, yy, fold, folds)
        if predicted is None:
            return None
    sse = float(((yy - predicted) ** 2).sum())
    sst = float(((yy - yy.mean()) ** 2).sum())
    return math.sqrt(sse / n), (1.0 - sse / sst) if sst > 0 else 0.0


def _cv_refit(data: Columns, y: np.ndarray, fold: np.ndarray, folds: int) -> np.ndarray | None:
    """Out-of-fold predictions with the columns rebuilt inside each fold (a level or column
    may have no support once a fold is held out)."""
    import numpy as np

    predicted = np.empty(y.shape[0])
    for k in range(folds):
        train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        design, x = _design_and_matrix(data.take(train))
        if x.shape[0] <= x.shape[1]:
            return None
        result = ols(x, y[train])
        predicted[test] = data.take(test).matrix(design) @ np.asarray(result.coefficients)
    return predicted


def fit(scale: str, rows: Sequence[Covariates] | Columns, y: Sequence[float], *,
        tolerance: float = 0.0, fitted_at: str = "") -> RiskModel:
    """Fit, cross-validate and validate the model of one scale.

    It validates when (1) it rests on at least ``MIN_EPISODES`` episodes and ten per
    coefficient, (2) its cross-validated R-squared is above zero (it predicts a new patient
    better than the clinic's mean does) and (3) every decile of predicted improvement is
    calibrated (:func:`calibration`)."""
    import numpy as np

    if len(rows) != len(y):
        raise ValueError("rows and outcomes differ in length.")
    if len(rows) < 3:
        raise ValueError(f"{len(rows)} episodes are too few to fit a model.")
    data = rows if isinstance(rows, Columns) else Columns.of(rows)
    design, x = _design_and_matrix(data)
    yy = np.asarray(y, dtype=float)
    if x.shape[0] <= x.shape[1]:
        raise ValueError(f"{len(rows)} episodes are too few to fit {x.shape[1]} coefficients.")
    result = ols(x, yy)
    model_pred = x @ np.asarray(result.coefficients)
    cv = cross_validate(data, y)
    deciles = calibration(model_pred, yy, tolerance=tolerance)
    reasons = []
    p = len(design.terms)
    needed = max(MIN_EPISODES, PER_COEFFICIENT * p)
    if len(rows) < needed:
        reasons.append(f"it rests on {len(rows)} episodes and needs at least {needed} "
                       f"({MIN_EPISODES}, and {PER_COEFFICIENT} per coefficient).")
    if cv is None or cv[1] <= 0:
        reasons.append("its cross-validated R-squared is not above zero: it predicts new "
                       "patients no better than the clinic's mean improvement.")
    bad = [i + 1 for i, d in enumerate(deciles) if not d.ok]
    if bad:
        reasons.append(f"decile{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad))} of "
                       "predicted improvement "
                       f"{'are' if len(bad) > 1 else 'is'} off calibration.")
    return RiskModel(
        scale=scale, design=design, coefficients=result.coefficients,
        std_errors=result.std_errors, n=result.n, r2=result.r2,
        residual_sd=result.residual_sd, cv_rmse=cv[0] if cv else None,
        cv_r2=cv[1] if cv else None, calibration=tuple(deciles), tolerance=tolerance,
        validates=not reasons, reasons=tuple(reasons), fitted_at=fitted_at)


# --- observed minus expected -----------------------------------------------------------------


@dataclass(frozen=True)
class Adjusted:
    """Mean observed minus expected improvement of a group of episodes, with its 95% interval
    (t-based). ``mean`` and ``ci95`` are None when the figure may not be shown: the model does
    not validate, or it rests on fewer than ``min_n`` episodes (``why`` says which)."""

    scale: str
    n: int
    mean_observed: float | None
    mean_expected: float | None
    mean: float | None
    ci95: tuple[float, float] | None
    why: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "n": self.n, "mean_observed": self.mean_observed,
                "mean_expected": self.mean_expected, "observed_minus_expected": self.mean,
                "ci95": list(self.ci95) if self.ci95 else None, "why": self.why}


def observed_minus_expected(model: RiskModel, rows: Sequence[Covariates],
                            observed: Sequence[float], *, min_n: int) -> Adjusted:
    """The group's mean of (observed - expected) improvement under ``model``."""
    n = len(rows)
    if n != len(observed):
        raise ValueError("rows and outcomes differ in length.")
    why = None
    if not model.validates:
        why = "the model does not validate: " + " ".join(model.reasons)
    elif n < max(min_n, 2):
        why = f"fewer than {max(min_n, 2)} episodes"
    if why is not None:
        return Adjusted(model.scale, n, None, None, None, None, why)
    return observed_minus_predicted(model, [model.predict(r) for r in rows], observed,
                                    min_n=min_n)


def observed_minus_predicted(model: RiskModel, expected: Sequence[float],
                             observed: Sequence[float], *, min_n: int) -> Adjusted:
    """:func:`observed_minus_expected` from predictions already made (``expected``, one per
    observed value): what a reader of many groups uses, predicting every row once."""
    n = len(expected)
    if n != len(observed):
        raise ValueError("predictions and outcomes differ in length.")
    if not model.validates:
        return Adjusted(model.scale, n, None, None, None, None,
                        "the model does not validate: " + " ".join(model.reasons))
    if n < max(min_n, 2):
        return Adjusted(model.scale, n, None, None, None, None,
                        f"fewer than {max(min_n, 2)} episodes")
    diffs = [o - e for o, e in zip(observed, expected, strict=True)]
    mean, ci = mean_ci(diffs)
    return Adjusted(model.scale, n, math.fsum(observed) / n, math.fsum(expected) / n, mean, ci)


__all__ = ["MIN_EPISODES", "MIN_LEVEL", "Adjusted", "Columns", "Covariates", "Decile", "Design",
           "Ols",
           "RiskModel", "calibration", "cross_validate", "fit", "make_design", "mean_ci",
           "observed_minus_expected", "observed_minus_predicted", "ols"]
