"""A declining-referrer detector for low monthly counts: a Poisson CUSUM against the partner's
own seasonally adjusted baseline.

Why a CUSUM: a referrer sending 4 patients a month who halves to 2 sends 8 instead of 16 over
four months. A test of "the last 90 days against the year before" needs about 10 referrals a
month to see that (the rule this replaces). A CUSUM adds up the evidence month by month and is
the optimal sequential test for a step change (Page 1954; Lucas 1985 for Poisson counts), so it
sees a halving at 4 a month within about four months while staying quiet for steady partners.

The rule, for the monthly counts ``x_j`` of whole calendar months:

- Baseline: up to ``BASELINE_MONTHS`` months before the monitored window (at least
  ``MIN_BASELINE_MONTHS``). The partner's level is ``sum(x) / sum(season)`` over it, so a
  baseline made of mostly busy months does not make a normal quiet month look like a drop.
- Expected count in monitored month ``j``: ``e_j = level * season_j``.
- CUSUM over the last ``WINDOW_MONTHS`` months, from 0: ``S = max(0, S + LLR_j)`` where
  ``LLR_j = x_j * ln(r) + (1 - r) * e_j`` is the log-likelihood ratio of "the rate fell to
  ``r = DESIGN_RATIO`` of expected" against "unchanged" for a Poisson count.
- It fires when ``S >= THRESHOLD`` at the last month and the baseline level is at least
  ``MIN_LEVEL`` referrals a month (below that a halving cannot be told from noise).

The constants were tuned by the seeded simulation in bench/decline_sim.py, which prints the
table in docs/network.md; tests/network/test_decline.py holds the figures.
Everything here is pure: counts in, a result out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DESIGN_RATIO = 0.5
"""The drop the CUSUM is tuned for: the rate falls to half of the partner's own baseline."""

THRESHOLD = 3.1
"""Alarm when the CUSUM (a log-likelihood ratio) reaches this."""

WINDOW_MONTHS = 6
"""Months the CUSUM runs over; a decline older than this has become the partner's new level."""

BASELINE_MONTHS = 24
"""Months before the window that set the partner's level (fewer when the history is shorter)."""

MIN_BASELINE_MONTHS = 12
"""A partner with less history than this is not judged."""

MIN_LEVEL = 1.0
"""Referrals a month (season-adjusted) below which a partner is not judged."""

MIN_SEASON_PER_MONTH = 20
"""Clinic referrals a month below which the season is not estimated (each month's factor would
be mostly noise)."""

_LOG_R = math.log(DESIGN_RATIO)


@dataclass(frozen=True)
class Decline:
    """The detector's numbers for one partner at one month."""

    fires: bool
    statistic: float
    """The CUSUM at the last month (a log-likelihood ratio)."""
    threshold: float
    level: float
    """Baseline referrals a month, season-adjusted (0 when not judged)."""
    baseline_months: int
    recent: tuple[int, ...]
    """Counts of the monitored months, oldest first."""
    expected: tuple[float, ...]
    """Expected counts of the same months from the baseline level and the season."""
    run_months: int
    """Months since the CUSUM last stood at 0: how long the shortfall has been building."""
    run_count: int
    """Referrals in those months."""
    run_expected: float
    """Expected referrals in those months."""
    judged: bool
    """False when the history is too short or the level too low to judge."""

    @property
    def ratio(self) -> float | None:
        """Referrals over expected during the shortfall (None when there is none)."""
        return self.run_count / self.run_expected if self.run_expected > 0 else None


def detect(counts: Sequence[int], season: Sequence[float] | None = None) -> Decline:
    """Judge the last month of ``counts`` (whole months, oldest first, from the partner's start).

    ``season`` holds the seasonal factor of each of those months (1.0 = an average month); None
    means no seasonal adjustment."""
    n = len(counts)
    factors = list(season) if season is not None else [1.0] * n
    if len(factors) != n:
        raise ValueError(f"season has {len(factors)} months for {n} counts")
    base_end = max(n - WINDOW_MONTHS, 0)
    base_start = max(0, base_end - BASELINE_MONTHS)
    base_months = base_end - base_start
    if base_months < MIN_BASELINE_MONTHS:
        return Decline(False, 0.0, THRESHOLD, 0.0, base_months, tuple(counts[base_end:]),
                       (), 0, 0, 0.0, False)
    weight = sum(factors[base_start:base_end])
    level = sum(counts[base_start:base_end]) / weight if weight > 0 else 0.0
    if level < MIN_LEVEL:
        return Decline(False, 0.0, THRESHOLD, level, base_months,
                       tuple(counts[base_end:]), (), 0, 0, 0.0, False)
    s = 0.0
    run_months = run_count = 0
    run_expected = 0.0
    expected = []
    for j in range(base_end, n):
        e = level * factors[j]
        expected.append(e)
        s = s + counts[j] * _LOG_R + (1 - DESIGN_RATIO) * e
        if s <= 0:
            s = 0.0
            run_months = run_count = 0
            run_expected = 0.0
        else:
            run_months += 1
            run_count += counts[j]
            run_expected += e
    return Decline(
        fires=s >= THRESHOLD, statistic=s, threshold=THRESHOLD, level=level,
        baseline_months=base_months, recent=tuple(counts[base_end:]),
        expected=tuple(expected), run_months=run_months, run_count=run_count,
        run_expected=run_expected, judged=True)


def seasonal_factors(monthly_totals: Sequence[float]) -> list[float] | None:
    """Seasonal factor of each calendar-month position from a clinic's monthly totals.

    ``monthly_totals`` are whole months, oldest first; the result has 12 factors, where index
    ``i`` belongs to the months at positions ``i, i + 12, ...`` of the input (callers align it
    with calendar months). Ratio to a centred 2x12 moving average (the classical X-11 first
    step), so a growing or shrinking clinic does not pass for a season; averaged per position,
    normalised to a mean of 1 and clipped to [0.5, 1.5]. None when fewer than 24 months (every
    position needs at least one centred average) or when the totals are too thin to say."""
    n = len(monthly_totals)
    if n < 24 or sum(monthly_totals) / n < MIN_SEASON_PER_MONTH:
        return None
    ratios: list[list[float]] = [[] for _ in range(12)]
    for i in range(6, n - 6):
        window = monthly_totals[i - 6 : i + 7]
        average = (sum(window[1:-1]) + (window[0] + window[-1]) / 2) / 12
        if average > 0:
            ratios[i % 12].append(monthly_totals[i] / average)
    if any(not r for r in ratios):
        return None
    raw = [sum(r) / len(r) for r in ratios]
    mean = sum(raw) / 12
    return [min(1.5, max(0.5, f / mean)) for f in raw]


def month_index(year: int, month: int) -> int:
    """A running month number (for aligning counts, seasons and calendar months)."""
    return year * 12 + month - 1


def season_for(months: Sequence[int], by_calendar_month: Mapping[int, float] | None,
               ) -> list[float] | None:
    """Factors for running month numbers from factors keyed by calendar month 1-12."""
    if by_calendar_month is None:
        return None
    return [by_calendar_month[m % 12 + 1] for m in months]


__all__ = [
    "BASELINE_MONTHS",
    "DESIGN_RATIO",
    "MIN_BASELINE_MONTHS",
    "MIN_LEVEL",
    "MIN_SEASON_PER_MONTH",
    "THRESHOLD",
    "WINDOW_MONTHS",
    "Decline",
    "detect",
    "month_index",
    "season_for",
    "seasonal_factors",
]
