"""Kaplan-Meier against a published worked example (censoring included), an independent exact
computation, and properties that hold for any data."""

from __future__ import annotations

import math
import statistics
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes.reports.survival import kaplan_meier

# Freireich et al. (1963), Blood 21:699-716: weeks in remission of 42 leukaemia patients, the
# textbook example of censored data (Kleinbaum & Klein, "Survival Analysis: A Self-Learning
# Text", ch. 2; Le, "Introductory Biostatistics", example 11.1; MASS::gehan in R).
# 6-MP arm: 9 relapses, 12 censored (+).
SIX_MP = [(6, 1), (6, 1), (6, 1), (6, 0), (7, 1), (9, 0), (10, 1), (10, 0), (11, 0), (13, 1),
          (16, 1), (17, 0), (19, 0), (20, 0), (22, 1), (23, 1), (25, 0), (32, 0), (32, 0),
          (34, 0), (35, 0)]
# Placebo arm: every patient relapsed (no censoring).
PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]

# The published table for the 6-MP arm: R survival's summary(survfit(Surv(time, cens) ~ 1))
# with its default log-transformed band, the same numbers as Kleinbaum & Klein's KM table:
# time, n at risk, relapses, S(t), Greenwood SE, lower 95%, upper 95%.
PUBLISHED_6MP = [
    (6, 21, 3, 0.857, 0.0764, 0.720, 1.000),
    (7, 17, 1, 0.807, 0.0869, 0.653, 0.996),
    (10, 15, 1, 0.753, 0.0963, 0.586, 0.968),
    (13, 12, 1, 0.690, 0.1068, 0.510, 0.935),
    (16, 11, 1, 0.627, 0.1141, 0.439, 0.896),
    (22, 7, 1, 0.538, 0.1282, 0.337, 0.858),
    (23, 6, 1, 0.448, 0.1346, 0.249, 0.807),
]


def six_mp(transform: str = "log-log"):  # type: ignore[no-untyped-def]
    return kaplan_meier([t for t, _ in SIX_MP], [bool(e) for _, e in SIX_MP],
                        transform=transform)  # type: ignore[arg-type]


def test_six_mp_matches_the_published_table() -> None:
    km = six_mp("log")
    assert km.n == 21 and km.n_events == 9
    got = list(zip(km.times, km.at_risk, km.events, km.survival, km.std_err, km.lower,
                   km.upper, strict=True))
    for row, published in zip(got, PUBLISHED_6MP, strict=True):
        t, n, d, s, se, lo, hi = published
        assert row[:3] == (t, n, d)
        assert row[3] == pytest.approx(s, abs=5e-4)
        assert row[4] == pytest.approx(se, abs=5e-5)
        assert row[5] == pytest.approx(lo, abs=5e-4)
        assert row[6] == pytest.approx(hi, abs=5e-4)


def test_six_mp_median_and_its_interval_as_published() -> None:
    # print(survfit(...)) for gehan: 6-MP median 23, 0.95LCL 16, 0.95UCL NA (log band);
    # placebo median 8 (4, 12).
    km = six_mp("log")
    assert km.median() == 23
    assert km.median_ci() == (16, None)
    placebo = kaplan_meier(PLACEBO, [True] * len(PLACEBO), transform="log")
    assert placebo.median() == 8
    assert placebo.median_ci() == (4, 12)


def test_six_mp_log_log_band_and_median() -> None:
    # The log-log band, worked by hand at t = 6: V = 3 / (21 * 18), S = 6/7,
    # S ** exp(+-1.96 sqrt(V) / log S) = (0.620, 0.952); at t = 23, (0.188, 0.680). The lower
    # band first falls to 0.5 at 13 weeks; the upper band never does.
    km = six_mp()
    assert (km.lower[0], km.upper[0]) == (pytest.approx(0.620, abs=5e-4),
                                          pytest.approx(0.952, abs=5e-4))
    assert (km.lower[-1], km.upper[-1]) == (pytest.approx(0.188, abs=5e-4),
                                            pytest.approx(0.680, abs=5e-4))
    assert km.median() == 23
    assert km.median_ci() == (13, None)


def exact_km(data: list[tuple[int, int]]) -> list[tuple[int, Fraction, Fraction]]:
    """An independent computation: exact fractions, one pass over each distinct time as in a
    textbook's hand table (time, S, Greenwood's sum)."""
    result = []
    s = Fraction(1)
    greenwood = Fraction(0)
    for t in sorted({t for t, e in data if e}):
        n = sum(1 for u, _ in data if u >= t)
        d = sum(1 for u, e in data if u == t and e)
        s *= Fraction(n - d, n)
        if n > d:
            greenwood += Fraction(d, n * (n - d))
        result.append((t, s, greenwood))
    return result


def test_six_mp_matches_an_exact_computation() -> None:
    km = six_mp()
    for (t, s, g), time, surv, se in zip(exact_km(SIX_MP), km.times, km.survival, km.std_err,
                                         strict=True):
        assert time == t
        assert surv == pytest.approx(float(s), rel=1e-12)
        assert se == pytest.approx(float(s) * math.sqrt(float(g)), rel=1e-12)
    assert float(exact_km(SIX_MP)[-1][1]) == pytest.approx(0.4482, abs=5e-5)


def test_curve_at_exactly_one_half_takes_the_midpoint() -> None:
    # Four events, no censoring: S = .75, .5, .25, 0; the median is the sample median 2.5.
    km = kaplan_meier([1, 2, 3, 4], [True] * 4)
    assert km.median() == 2.5


def test_all_censored_has_no_median_and_a_flat_curve() -> None:
    km = kaplan_meier([3, 5, 8], [False] * 3)
    assert km.times == () and km.median() is None and km.median_ci() == (None, None)
    assert km.steps() == ((0.0,), (1.0,))
    assert km.survival_at(100) == 1.0


def test_censored_at_an_event_time_is_still_at_risk() -> None:
    # At t = 6 the censored patient is counted at risk: 21 at risk, not 20.
    km = six_mp()
    assert km.at_risk[0] == 21 and km.at_risk[1] == 17


def test_steps_and_survival_at() -> None:
    km = six_mp()
    times, surv = km.steps()
    assert times[:3] == (0.0, 6.0, 7.0) and surv[0] == 1.0
    assert km.survival_at(5.9) == 1.0
    assert km.survival_at(6) == pytest.approx(18 / 21)
    assert km.survival_at(9) == pytest.approx(18 / 21 * 16 / 17)


@pytest.mark.parametrize(("times", "events", "message"), [
    ([1, 2], [True], "differ in length"),
    ([-1], [True], "non-negative"),
    ([math.nan], [True], "finite"),
])
def test_bad_input_is_refused(times: list[float], events: list[bool], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kaplan_meier(times, events)


observations = st.lists(st.tuples(st.integers(0, 60), st.booleans()), min_size=1, max_size=60)


@given(observations)
def test_survival_is_non_increasing_and_within_zero_and_one(data: list[tuple[int, bool]]) -> None:
    km = kaplan_meier([t for t, _ in data], [e for _, e in data])
    previous = 1.0
    for s, lo, hi in zip(km.survival, km.lower, km.upper, strict=True):
        assert 0.0 <= s <= previous + 1e-12
        assert 0.0 <= lo <= s + 1e-12 and s - 1e-12 <= hi <= 1.0
        previous = s
    lo_m, hi_m = km.median_ci()
    median = km.median()
    if median is not None and lo_m is not None:
        assert lo_m <= median
    if median is not None and hi_m is not None:
        assert median <= hi_m


@given(st.lists(st.integers(0, 60), min_size=1, max_size=60))
def test_without_censoring_it_is_the_empirical_survival(values: list[int]) -> None:
    km = kaplan_meier(values, [True] * len(values))
    for t in range(0, 62):
        assert km.survival_at(t) == pytest.approx(sum(v > t for v in values) / len(values))
    assert km.median() == pytest.approx(statistics.median(values))
