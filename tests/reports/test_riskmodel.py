"""The risk model against certified and hand-solved fits, its validation rule at its edges, and
observed minus expected against an independent computation."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.reports import riskmodel
from outcomes.reports.riskmodel import (
    Covariates,
    RiskModel,
    calibration,
    fit,
    observed_minus_expected,
    ols,
)
from outcomes.studentt import t_cdf, t_pdf, t_quantile

# NIST Statistical Reference Datasets, "Longley" (higher difficulty): total employment on six
# economic series, 1947-1962, with certified coefficients and standard errors
# (itl.nist.gov/div898/strd/lls/data/Longley.shtml).
LONGLEY = """60323 83.0 234289 2356 1590 107608 1947
61122 88.5 259426 2325 1456 108632 1948
60171 88.2 258054 3682 1616 109773 1949
61187 89.5 284599 3351 1650 110929 1950
63221 96.2 328975 2099 3099 112075 1951
63639 98.1 346999 1932 3594 113270 1952
64989 99.0 365385 1870 3547 115094 1953
63761 100.0 363112 3578 3350 116219 1954
66019 101.2 397469 2904 3048 117388 1955
67857 104.6 419180 2822 2857 118734 1956
68169 108.4 442769 2936 2798 120445 1957
66513 110.8 444546 4681 2637 121950 1958
68655 112.6 482704 3813 2552 123366 1959
69564 114.2 502601 3931 2514 125368 1960
69331 115.7 518173 4806 2572 127852 1961
70551 116.9 554894 4007 2827 130081 1962"""
LONGLEY_B = [-3482258.63459582, 15.0618722713733, -0.358191792925910e-01, -2.02022980381683,
             -1.03322686717359, -0.511041056535807e-01, 1829.15146461355]
LONGLEY_SE = [890420.383607373, 84.9149257747669, 0.334910077722432e-01, 0.488399681651699,
              0.214274163161675, 0.226073200069370, 455.478499142212]
LONGLEY_RESIDUAL_SD = 304.854073561965
LONGLEY_R2 = 0.995479004577296


def test_ols_matches_the_nist_certified_longley_fit() -> None:
    data = np.array([[float(v) for v in line.split()] for line in LONGLEY.splitlines()])
    x = np.column_stack([np.ones(len(data)), data[:, 1:]])
    result = ols(x, data[:, 0])
    assert result.coefficients == pytest.approx(LONGLEY_B, rel=1e-7)
    assert result.std_errors == pytest.approx(LONGLEY_SE, rel=1e-6)
    assert result.residual_sd == pytest.approx(LONGLEY_RESIDUAL_SD, rel=1e-9)
    assert result.r2 == pytest.approx(LONGLEY_R2, rel=1e-12)


@pytest.mark.parametrize(("p", "df", "published"), [
    (0.975, 1, 12.7062),   # a t table's first row
    (0.975, 2, 4.3027),
    (0.975, 10, 2.2281),
    (0.975, 30, 2.0423),
    (0.975, 120, 1.9799),
    (0.995, 10, 3.1693),
    (0.95, 5, 2.0150),
    (0.025, 10, -2.2281),  # symmetric
])
def test_t_quantile_matches_a_published_table(p: float, df: int, published: float) -> None:
    assert t_quantile(p, df) == pytest.approx(published, abs=5e-5)


def test_t_quantile_tends_to_the_normal() -> None:
    assert t_quantile(0.975, 1e9) == pytest.approx(1.959964, abs=1e-6)


# --- a fit solved by hand ----------------------------------------------------------------------


def clinic_rows(n: int, seed: int = 3, noise: float = 4.0) -> tuple[list[Covariates],
                                                                       list[float]]:
    """Episodes whose improvement follows a known rule plus noise."""
    rng = random.Random(seed)
    rows, y = [], []
    for i in range(n):
        intake = rng.uniform(10, 70)
        onset = None if i % 7 == 0 else float(rng.randint(3, 400))
        age = ["30-39", "50-59", "70-79"][i % 3]
        group = ["low back", "neck"][i % 2]
        rows.append(Covariates(intake=intake, age_band=age, onset_days=onset, group=group))
        effect = 0.4 * intake - (0 if onset is None else 1.5 * math.log1p(onset)) \
            + (3 if group == "neck" else 0) - (2 if age == "70-79" else 0)
        y.append(effect + rng.gauss(0, noise))
    return rows, y


def hand_columns(c: Covariates) -> dict[str, Fraction]:
    """The design written out independently: reference levels are the most common ones."""
    onset = c.onset_days
    return {
        "intercept": Fraction(1),
        "intake": Fraction(c.intake),
        "log_onset_days": Fraction(0 if onset is None else math.log1p(onset)),
        "onset_unknown": Fraction(onset is None),
        "age:50-59": Fraction(c.age_band == "50-59"),
        "age:70-79": Fraction(c.age_band == "70-79"),
        "group:neck": Fraction(c.group == "neck"),
    }


def solve_normal_equations(x: list[list[Fraction]], y: list[Fraction]) -> list[Fraction]:
    """(X'X) b = X'y by Gauss-Jordan elimination in exact arithmetic."""
    p = len(x[0])
    a = [[sum((r[i] * r[j] for r in x), Fraction(0)) for j in range(p)]
         + [sum((r[i] * v for r, v in zip(x, y, strict=True)), Fraction(0))]
         for i in range(p)]
    for col in range(p):
        pivot = next(r for r in range(col, p) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        a[col] = [v / a[col][col] for v in a[col]]
        for r in range(p):
            if r != col and a[r][col] != 0:
                factor = a[r][col]
                a[r] = [v - factor * w for v, w in zip(a[r], a[col], strict=True)]
    return [a[i][p] for i in range(p)]


def test_fit_matches_the_normal_equations_solved_exactly() -> None:
    rows, y = clinic_rows(60)
    model = fit("odi", rows, y)
    names = list(hand_columns(rows[0]))
    # age 30-39 (20 rows) ties 50-59 and 70-79; the reference is the first by name.
    assert model.design.age_reference == "30-39"
    assert model.design.group_reference == "low back"
    assert set(model.design.terms) == set(names)
    x = [[hand_columns(r)[t] for t in names] for r in rows]
    exact = solve_normal_equations(x, [Fraction(v) for v in y])
    got = dict(zip(model.design.terms, model.coefficients, strict=True))
    for name, value in zip(names, exact, strict=True):
        assert got[name] == pytest.approx(float(value), rel=1e-8, abs=1e-9), name


def test_observed_minus_expected_against_an_independent_computation() -> None:
    rows, y = clinic_rows(200, seed=11)
    model = fit("odi", rows, y)
    assert model.validates, model.reasons
    names = list(hand_columns(rows[0]))
    exact = solve_normal_equations([[hand_columns(r)[t] for t in names] for r in rows],
                                   [Fraction(v) for v in y])
    partner = list(range(0, 12))  # twelve of the clinic's episodes
    observed = [y[i] + 2.0 for i in partner]  # this partner's patients did 2 points better
    diffs = [observed[k] - float(sum(c * hand_columns(rows[i])[t]
                                     for c, t in zip(exact, names, strict=True)))
             for k, i in enumerate(partner)]
    mean = sum(diffs) / len(diffs)
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1))
    half = 2.2010 * sd / math.sqrt(len(diffs))  # t(0.975, 11) from a table
    result = observed_minus_expected(model, [rows[i] for i in partner], observed, min_n=5)
    assert result.mean == pytest.approx(mean, rel=1e-9)
    assert result.ci95 is not None
    assert result.ci95[0] == pytest.approx(mean - half, abs=1e-3)
    assert result.ci95[1] == pytest.approx(mean + half, abs=1e-3)
    assert result.n == 12 and result.why is None


def test_observed_minus_expected_is_shown_only_from_min_n() -> None:
    rows, y = clinic_rows(200, seed=11)
    model = fit("odi", rows, y)
    below = observed_minus_expected(model, rows[:4], y[:4], min_n=5)
    at = observed_minus_expected(model, rows[:5], y[:5], min_n=5)
    assert below.mean is None and below.ci95 is None and below.n == 4
    assert below.why == "fewer than 5 episodes"
    assert at.mean is not None and at.ci95 is not None


def test_observed_minus_expected_is_hidden_when_the_model_does_not_validate() -> None:
    rows, y = clinic_rows(40)  # under 50 episodes
    model = fit("odi", rows, y)
    assert not model.validates
    result = observed_minus_expected(model, rows, y, min_n=5)
    assert result.mean is None and result.why is not None
    assert "rests on 40 episodes" in result.why


# --- validation at its edges -----------------------------------------------------------------


def simple_rows(n: int, seed: int = 5) -> tuple[list[Covariates], list[float]]:
    # Intake only (onsets all known): three coefficients, so 50 episodes is the floor.
    rng = random.Random(seed)
    rows = [Covariates(intake=rng.uniform(0, 60), onset_days=float(rng.randint(1, 200)))
            for _ in range(n)]
    return rows, [0.5 * r.intake + rng.gauss(0, 2) for r in rows]


@pytest.mark.parametrize(("n", "validates"), [(49, False), (50, True), (51, True)])
def test_validation_needs_fifty_episodes(n: int, validates: bool) -> None:
    model = fit("ndi", *simple_rows(n))
    assert model.design.terms == ("intercept", "intake", "log_onset_days")
    assert model.validates is validates, model.reasons


def test_validation_needs_ten_episodes_per_coefficient() -> None:
    # Seven coefficients: 60 episodes are not enough, 70 are.
    assert "needs at least 70" in " ".join(fit("odi", *clinic_rows(60, noise=1.0)).reasons)
    assert fit("odi", *clinic_rows(70, noise=1.0)).validates


def test_a_model_no_better_than_the_mean_does_not_validate() -> None:
    rng = random.Random(1)
    rows = [Covariates(intake=rng.uniform(0, 60), onset_days=10.0) for _ in range(300)]
    y = [rng.gauss(10, 5) for _ in rows]
    model = fit("ndi", rows, y)
    assert model.cv_r2 is not None and model.cv_r2 <= 0
    assert not model.validates
    assert any("cross-validated" in r for r in model.reasons)


@pytest.mark.parametrize(("gap", "ok"), [(1.999, True), (2.0, True), (2.001, False)])
def test_a_decile_is_calibrated_within_the_tolerance(gap: float, ok: bool) -> None:
    # One episode per decile: no interval, so only the tolerance can pass it.
    predicted = [float(i) for i in range(10)]
    observed = [p + (gap if i == 4 else 0.0) for i, p in enumerate(predicted)]
    deciles = calibration(predicted, observed, tolerance=2.0)
    assert [d.ok for d in deciles] == [True] * 4 + [ok] + [True] * 5
    assert deciles[4].half_width is None


def test_a_decile_is_calibrated_within_its_bonferroni_interval() -> None:
    # Two episodes per decile with residuals -1 and +1 around a gap g: half-width is
    # t(1 - 0.05/20, 1) * sd / sqrt(2) = 127.32 * 1.4142 / 1.4142 = 127.32.
    predicted = [float(i // 2) for i in range(20)]
    half = t_quantile(1 - 0.05 / 20, 1)
    assert half == pytest.approx(127.32, abs=0.01)
    for gap, ok in ((half - 0.01, True), (half + 0.01, False)):
        observed = [p + gap + (1 if i % 2 else -1) if i < 2 else p + (1 if i % 2 else -1)
                    for i, p in enumerate(predicted)]
        d = calibration(predicted, observed)[0]
        assert d.half_width == pytest.approx(half * math.sqrt(2) / math.sqrt(2))
        assert d.ok is ok


def test_a_badly_calibrated_model_does_not_validate() -> None:
    # A U-shaped truth fitted with a straight line: the extreme deciles are off.
    rng = random.Random(2)
    rows = [Covariates(intake=rng.uniform(0, 60), onset_days=10.0) for _ in range(2000)]
    y = [0.05 * (r.intake - 30) ** 2 + rng.gauss(0, 1) for r in rows]
    model = fit("ndi", rows, y)
    assert not model.validates
    assert any("off calibration" in r for r in model.reasons)


# --- the design ------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "own"), [(9, False), (10, True)])
def test_a_rare_level_counts_with_the_reference(count: int, own: bool) -> None:
    rows = [Covariates(intake=float(i), group="knee") for i in range(40)]
    rows += [Covariates(intake=float(i), group="hip") for i in range(count)]
    design = riskmodel.make_design(rows)
    assert design.group_reference == "knee"
    assert ("group:hip" in design.terms) is own


def test_unseen_levels_and_missing_values_predict_as_the_reference() -> None:
    rows, y = clinic_rows(200, seed=11)
    model = fit("odi", rows, y)
    base = Covariates(intake=30.0, age_band="30-39", onset_days=30.0, group="low back")
    assert model.predict(Covariates(intake=30.0, age_band="18-29", onset_days=30.0,
                                    group="wrist/hand")) == pytest.approx(model.predict(base))
    # Unknown onset uses the indicator's coefficient, not a made-up number of days.
    terms = dict(zip(model.design.terms, model.coefficients, strict=True))
    unknown = Covariates(intake=30.0, age_band="30-39", onset_days=None, group="low back")
    assert model.predict(unknown) == pytest.approx(
        terms["intercept"] + 30 * terms["intake"] + terms["onset_unknown"])


def test_constant_and_aliased_columns_are_dropped() -> None:
    rng = random.Random(4)
    # Every onset unknown (both onset columns constant); group and age say the same thing.
    rows = [Covariates(intake=rng.uniform(0, 50), age_band="40-49" if i % 2 else "60-69",
                       group="neck" if i % 2 else "low back") for i in range(100)]
    y = [r.intake * 0.3 + rng.gauss(0, 1) for r in rows]
    model = fit("ndi", rows, y)
    assert "log_onset_days" not in model.design.terms
    assert "onset_unknown" not in model.design.terms
    assert len([t for t in model.design.terms if t.startswith(("age:", "group:"))]) == 1


def test_surgical_status_enters_only_when_recorded() -> None:
    rows, y = clinic_rows(100)
    assert "surgical" not in fit("odi", rows, y).design.terms
    # Not in step with age (i % 3) or group (i % 2), which would alias the columns.
    with_surgery = [Covariates(intake=r.intake, age_band=r.age_band, onset_days=r.onset_days,
                               group=r.group, surgical=[True, False, None, False, True][i % 5])
                    for i, r in enumerate(rows)]
    terms = fit("odi", with_surgery, y).design.terms
    assert "surgical" in terms and "surgical_unknown" in terms


def test_a_stored_model_predicts_the_same() -> None:
    rows, y = clinic_rows(120)
    model = fit("odi", rows, y, tolerance=1.5, fitted_at="2026-11-22T10:00:00+00:00")
    again = RiskModel.from_dict(model.as_dict())
    assert again == model
    assert [again.predict(r) for r in rows[:10]] == [model.predict(r) for r in rows[:10]]


def test_too_few_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="too few"):
        fit("odi", [Covariates(intake=1.0)] * 2, [1.0, 2.0])
    with pytest.raises(ValueError, match="differ in length"):
        fit("odi", [Covariates(intake=1.0)] * 5, [1.0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(-50, 50), st.sampled_from("abc")),
                min_size=12, max_size=80))
def test_the_clinic_as_a_whole_is_exactly_as_expected(
        data: list[tuple[float, float, str]]) -> None:
    # OLS with an intercept leaves residuals that sum to zero: the whole sample's observed
    # minus expected is 0, whatever the data.
    rows = [Covariates(intake=i, onset_days=10.0, group=g) for i, _, g in data]
    y = [v for _, v, _ in data]
    model = fit("odi", rows, y)
    expected = [model.predict(r) for r in rows]
    assert math.fsum(o - e for o, e in zip(y, expected, strict=True)) / len(y) == \
        pytest.approx(0.0, abs=1e-6 * (1 + max(abs(v) for v in y)))


def test_columns_built_from_lists_fit_as_the_rows_do() -> None:
    rows, y = clinic_rows(150, seed=8)
    columns = riskmodel.Columns.build([r.intake for r in rows], [r.age_band for r in rows],
                                      [r.onset_days for r in rows], [r.group for r in rows],
                                      [r.surgical for r in rows])
    assert len(columns) == 150
    assert fit("odi", columns, y) == fit("odi", rows, y)
    with pytest.raises(ValueError, match="differ in length"):
        riskmodel.Columns.build([1.0], [], [], [], [])


@pytest.mark.parametrize("df", [999, 1000, 1001, 20_000])
def test_t_quantile_is_the_inverse_of_the_cdf_either_side_of_the_expansion(df: int) -> None:
    # From 1000 degrees of freedom the quantile comes from a series, below from bisection.
    for p in (0.9, 0.975, 0.9975):
        assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-10)


def test_downdated_folds_predict_as_refitting_each_fold() -> None:
    # Every level keeps its column in every fold here, so taking each fold's rows out of the
    # normal equations must give the refit's predictions.
    rows, y = clinic_rows(200, seed=6)
    data = riskmodel.Columns.of(rows)
    yy = np.asarray(y)
    fold = np.arange(200) % 5
    _design, x = riskmodel._design_and_matrix(data)
    fast = riskmodel._cv_downdated(x, yy, fold, 5)
    slow = riskmodel._cv_refit(data, yy, fold, 5)
    assert fast is not None and slow is not None
    assert fast == pytest.approx(slow, rel=1e-9, abs=1e-9)


def test_a_fold_without_support_for_a_column_falls_back_to_refitting() -> None:
    # Ten "hip" rows, every fifth row: all in fold 0, so without fold 0 the column is empty.
    rows = [Covariates(intake=float(i % 37), onset_days=float(i % 11 + 1),
                       group="hip" if i % 5 == 0 and i < 50 else "knee") for i in range(120)]
    y = [0.5 * r.intake + (3.0 if r.group == "hip" else 0.0) + (i % 7) * 0.1
         for i, r in enumerate(rows)]
    data = riskmodel.Columns.of(rows)
    _design, x = riskmodel._design_and_matrix(data)
    assert "group:hip" in _design.terms
    assert riskmodel._cv_downdated(x, np.asarray(y), np.arange(120) % 5, 5) is None
    assert riskmodel.cross_validate(rows, y) is not None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.sampled_from(["30-39", "18-29", None]),
                          st.one_of(st.none(), st.floats(-5, 5000)),
                          st.sampled_from(["low back", "neck", "wrist/hand"]),
                          st.sampled_from([True, False, None])), min_size=1, max_size=30))
def test_predicting_columns_at_once_is_predicting_each_row(
        raw: list[tuple[float, str | None, float | None, str, bool | None]]) -> None:
    # Rows with levels the fit never saw (18-29, wrist/hand), unknown or negative onsets and
    # surgical status, predicted by the matrix product and row by row.
    rows, y = clinic_rows(200, seed=11)
    rows = [Covariates(c.intake, c.age_band, c.onset_days, c.group, surgical=i % 3 == 0)
            for i, c in enumerate(rows)]
    model = fit("odi", rows, y)
    new = [Covariates(intake=i, age_band=a, onset_days=d, group=g, surgical=s)
           for i, a, d, g, s in raw]
    assert model.predict_columns(riskmodel.Columns.of(new)) == pytest.approx(
        [model.predict(c) for c in new], rel=1e-9, abs=1e-9)


def test_observed_minus_predicted_is_observed_minus_expected() -> None:
    rows, y = clinic_rows(200, seed=11)
    model = fit("odi", rows, y)
    group, observed = rows[:40], [v + 1.5 for v in y[:40]]
    expected = [model.predict(c) for c in group]
    assert riskmodel.observed_minus_predicted(model, expected, observed, min_n=5) == \
        observed_minus_expected(model, group, observed, min_n=5)
    for n, shown in ((4, False), (5, True)):
        result = riskmodel.observed_minus_predicted(model, expected[:n], observed[:n], min_n=5)
        assert (result.mean is not None) is shown


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 29, 30, 31, 100, 998])
def test_t_quantile_is_the_inverse_of_the_cdf_below_the_expansion(df: int) -> None:
    # Newton's steps from the series' guess, kept inside the bracket, at few and many degrees
    # of freedom (one: the Cauchy distribution, where the series is far off).
    for p in (0.6, 0.9, 0.975, 0.995, 0.9995):
        assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-12)


def test_t_quantile_at_one_degree_of_freedom_is_the_cauchy_quantile() -> None:
    for p in (0.6, 0.9, 0.975, 0.995):
        assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-10)


def test_t_density_integrates_to_the_cdf() -> None:
    # The trapezoid rule on a fine grid from 0: F(t) - 1/2.
    for df in (1, 3, 12):
        steps = 20_000
        h = 3.0 / steps
        area = h * (sum(t_pdf(i * h, df) for i in range(1, steps))
                    + (t_pdf(0.0, df) + t_pdf(3.0, df)) / 2)
        assert area == pytest.approx(t_cdf(3.0, df) - 0.5, abs=1e-8)
