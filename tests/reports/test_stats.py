"""Statistics against published or hand-computed values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes.reports.scorecard import median_from_counts
from outcomes.reports.statistics import Nps, median, nps_from_scores, wilson


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        (8, 10, 0.4902, 0.9433),   # Newcombe (1998) table / common worked example
        (0, 10, 0.0, 0.2775),      # zero successes: upper bound 1.96^2/(10+1.96^2)
        (10, 10, 0.7225, 1.0),     # symmetric to the above
        (1, 2, 0.0945, 0.9055),
        (15, 148, 0.0624, 0.1605),  # Newcombe (1998) example 81/263-like small rate
    ],
)
def test_wilson_known_values(k: int, n: int, lo: float, hi: float) -> None:
    interval = wilson(k, n)
    assert interval is not None
    assert interval[0] == pytest.approx(lo, abs=1e-4)
    assert interval[1] == pytest.approx(hi, abs=1e-4)


def test_wilson_empty_and_invalid() -> None:
    assert wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(3, 2)


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_the_rate(kn: tuple[int, int]) -> None:
    k, n = kn
    interval = wilson(k, n)
    assert interval is not None
    assert 0.0 <= interval[0] <= k / n <= interval[1] <= 1.0


def test_nps_and_trinomial_margin_by_hand() -> None:
    # 2 promoters, 1 passive, 2 detractors: NPS 0; p = d = 0.4:
    # 100 x 1.96 x sqrt((0.8 - 0) / 5) = 196 x 0.4 = 78.4
    nps = Nps(2, 1, 2)
    assert nps.score == 0.0
    assert nps.moe95 == pytest.approx(78.4)
    # 60 promoters, 30 passives, 10 detractors: NPS 50; var = 0.7 - 0.25 = 0.45
    nps = Nps(60, 30, 10)
    assert nps.score == pytest.approx(50.0)
    assert nps.moe95 == pytest.approx(196 * math.sqrt(0.45 / 100))
    assert Nps(0, 0, 0).score is None and Nps(0, 0, 0).moe95 is None
    assert Nps(5, 0, 0).moe95 == 0.0  # everyone a promoter: no variance


def test_nps_categories() -> None:
    nps = nps_from_scores([0, 6, 7, 8, 9, 10])
    assert (nps.promoters, nps.passives, nps.detractors) == (2, 2, 2)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), ([3], 3.0), ([5, 1], 3.0), ([1, 9, 2], 2.0), ([4, 1, 3, 2], 2.5)],
)
def test_median(values: list[float], expected: float | None) -> None:
    assert median(values) == expected


@given(st.lists(st.integers(0, 40), max_size=60))
def test_median_from_counts_matches_median(values: list[int]) -> None:
    counts: dict[float, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    assert median_from_counts(counts) == median(values)
