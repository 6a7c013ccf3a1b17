"""The declining-referrer detector: its boundaries, its season, and its simulated operating point."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.decline_sim import oracle_bound, simulate
from outcomes.network import decline
from outcomes.network.decline import detect, seasonal_factors

W = decline.WINDOW_MONTHS


def llr(x: int, e: float) -> float:
    """One month's log-likelihood ratio, written out independently of the module."""
    return x * math.log(0.5) + 0.5 * e


# ------------------------------------------------------------------ the rule, by hand


def test_statistic_matches_a_hand_cusum() -> None:
    counts = [4] * 24 + [4, 1, 5, 2, 1, 0]
    result = detect(counts)
    assert result.judged and result.level == 4.0 and result.baseline_months == 24
    assert result.recent == (4, 1, 5, 2, 1, 0) and result.expected == (4.0,) * 6
    s = 0.0
    for x in result.recent:
        s = max(0.0, s + llr(x, 4.0))
    assert result.statistic == pytest.approx(s)
    # 4 and 5 referrals pull the CUSUM back to 0; the shortfall run is the last three months.
    assert (result.run_months, result.run_count, result.run_expected) == (3, 3, 12.0)
    assert result.ratio == pytest.approx(0.25)


def test_fires_at_the_threshold_and_not_just_below(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = [4] * 24 + [2, 2, 2, 2, 2, 2]
    statistic = detect(counts).statistic
    assert statistic == pytest.approx(6 * llr(2, 4.0))
    monkeypatch.setattr(decline, "THRESHOLD", statistic)
    assert detect(counts).fires
    monkeypatch.setattr(decline, "THRESHOLD", statistic + 1e-9)
    assert not detect(counts).fires


def test_the_window_is_the_last_six_months_and_the_baseline_the_months_before() -> None:
    # A zero month just inside the window must not lower the baseline level.
    counts = [4] * 24 + [0] + [4] * (W - 1)
    result = detect(counts)
    assert result.level == 4.0 and len(result.recent) == W and result.recent[0] == 0
    # The baseline stops 24 months back: the older, busier months do not count.
    result = detect([10] * 12 + [4] * 24 + [4] * W)
    assert result.level == 4.0 and result.baseline_months == 24
    result = detect([10] * 1 + [4] * 23 + [4] * W)
    assert result.level == pytest.approx((10 + 4 * 23) / 24)


def test_minimum_history() -> None:
    assert not detect([4] * (11 + W)).judged
    assert detect([4] * (12 + W)).judged
    # Eleven months of history and then nothing at all: still not judged, never fires.
    assert not detect([4] * 11 + [0] * W).fires
    assert detect([4] * 12 + [0] * W).fires


def test_minimum_level() -> None:
    # A partner at 1 a month is judged; below 1 a month nobody is. Six empty months at 1 a
    # month are a CUSUM of 6 * 0.5 = 3.0: not yet enough evidence on their own.
    assert detect([1] * 12 + [0] * W).judged
    assert detect([1] * 12 + [0] * W).statistic == pytest.approx(3.0)
    assert not detect([1] * 12 + [0] * W).fires
    low = [1] * 11 + [0] + [0] * W   # 11 referrals in 12 months: level 0.917
    assert not detect(low).judged and not detect(low).fires


def test_season_sets_the_expected_counts() -> None:
    # A clinic whose summer is half as busy: a partner whose summer halves is not declining.
    season = [1.0] * 24 + [0.5] * W
    counts = [6] * 24 + [3] * W
    assert detect(counts).fires
    assert not detect(counts, season).fires
    assert detect(counts, season).expected == (3.0,) * W
    with pytest.raises(ValueError, match="season"):
        detect(counts, season[:-1])


def test_seasonal_factors_recover_a_pattern_and_ignore_a_trend() -> None:
    pattern = [1.2, 1.1, 1.0, 1.0, 0.9, 0.8, 0.8, 0.9, 1.0, 1.1, 1.1, 1.1]
    mean = sum(pattern) / 12
    factors = seasonal_factors([100 * pattern[i % 12] for i in range(36)])
    assert factors == pytest.approx([p / mean for p in pattern])
    # A clinic growing steadily has no season: a centred average of a straight line is the line.
    assert seasonal_factors([50 + 3 * i for i in range(36)]) == pytest.approx([1.0] * 12)
    assert seasonal_factors([100.0] * 23) is None        # too short for a centred average
    # 24 months: exactly one centred average for each calendar month.
    assert seasonal_factors([100 * pattern[i % 12] for i in range(24)]) == pytest.approx(
        [p / mean for p in pattern])
    assert seasonal_factors([19.0] * 36) is None         # too thin to say
    assert seasonal_factors([20.0] * 36) == pytest.approx([1.0] * 12)


@settings(max_examples=60, deadline=None)
@given(level=st.integers(1, 30), history=st.integers(12, 30))
def test_a_perfectly_steady_partner_never_fires(level: int, history: int) -> None:
    assert not detect([level] * (history + W)).fires


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(0, 20), min_size=12 + W, max_size=40),
       month=st.integers(1, W))
def test_fewer_recent_referrals_never_silence_an_alert(counts: list[int], month: int) -> None:
    fewer = list(counts)
    fewer[-month] = max(0, fewer[-month] - 1)
    assert detect(fewer).statistic >= detect(counts).statistic - 1e-12


# ------------------------------------------------------------------ the operating point


def test_simulated_operating_point() -> None:
    """Seeded simulation (bench/decline_sim.py; the table in docs/network.md uses 2000 partners).

    Targets from issue 13: <= 0.2 false alarms per partner-year at every rate (met), and >= 80%
    of halvings detected within 4 months for rates >= 4 a month (met at 8 and 12 a month only:
    see docs/network.md for why no rule can meet it at 4 a month with that false-alarm rate)."""
    rows = {r.rate: r for r in simulate(partners=600, seed=13)}
    for row in rows.values():
        assert row.false_alarms_per_year <= 0.2, row
    assert rows[12].detected_within >= 0.9 and rows[8].detected_within >= 0.85
    assert rows[6].detected_within >= 0.72 and rows[4].detected_within >= 0.55
    delays = {r: rows[r].median_delay for r in (4, 6, 8, 12)}
    assert delays == {4: 4, 6: 3, 8: 2, 12: 2}
    # More referrals, earlier detection.
    shares = [rows[r].detected_within for r in (2, 4, 6, 8, 12)]
    assert shares == sorted(shares)


def test_no_rule_detects_80_percent_at_4_a_month_within_the_false_alarm_target() -> None:
    """The ceiling behind docs/network.md's claim: a CUSUM told the partner's true rate (the
    optimal detector of a known change, Moustakides 1986), at its best design ratio and
    threshold, still misses the 80% target at 4 referrals a month while keeping <= 0.2 false
    alarms per partner-year; at 12 a month it clears it, so the search itself works."""
    four, twelve = oracle_bound(partners=4000, seed=5, rates=(4, 12))
    assert four.false_alarms_per_year <= 0.2 and twelve.false_alarms_per_year <= 0.2
    assert four.detected_within < 0.7
    assert twelve.detected_within > 0.9
