"""The declining-referrer detector's operating point, by seeded simulation.

For each rate (2, 4, 6, 8, 12 referrals a month): partners with a steady, seasonal Poisson rate
for two years that then halve (share detected within 4 months of the drop, median delay), and
the same partners without a drop, followed for two more years (false alarms per partner-year:
the months in which the alert newly appears). The seasonal factors the detector uses are
estimated, as in the app, from a simulated clinic's monthly totals with the same season.

``oracle_bound`` asks whether any rule could do better: a Poisson CUSUM told the partner's true
rate (no season, no baseline to estimate), tried at every design ratio and threshold, with the
best share detected within 4 months among the settings that keep the false-alarm target. The
CUSUM is the optimal detector of a known change (Moustakides 1986, under Lorden's criterion), so
its best is a ceiling for any rule that sees the same monthly counts.

Run: .venv/bin/python -m bench.decline_sim [--partners N] [--seed S] [--oracle]
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np

from outcomes.network import decline

RATES = (2, 4, 6, 8, 12)
HISTORY_MONTHS = 24
"""Steady months before the drop (or before following a steady partner)."""
FOLLOW_MONTHS = 24
"""Months a steady partner is followed for false alarms."""
DETECT_WITHIN = 4
MAX_DELAY = 12
"""Months after the drop a partner is followed for the median delay."""
SEASON_AMPLITUDE = 0.15
"""Busiest month 15% above an average month, quietest 15% below."""
CLINIC_PER_MONTH = 150
"""The simulated clinic's total referrals a month, from which the season is estimated."""


@dataclass(frozen=True)
class Row:
    rate: float
    partners: int
    detected_within: float
    """Share of dropping partners detected within DETECT_WITHIN months of the drop."""
    median_delay: float | None
    """Median months from the drop to the first alert (None when most are never detected)."""
    false_alarms_per_year: float
    """Alerts newly raised per partner-year on steady partners."""
    alert_month_share: float
    """Share of steady partner-months with the alert on."""


def true_season(months: int) -> np.ndarray:
    """Seasonal multipliers for months 0..months-1, month 0 being January (quietest in
    December and the summer holidays, busiest in early spring)."""
    m = np.arange(months) % 12
    return 1 + SEASON_AMPLITUDE * np.cos(2 * math.pi * (m - 2) / 12)


def estimated_season(rng: np.random.Generator, months: int) -> list[float]:
    """The detector's factors for months 0..months-1, estimated from 36 months of a clinic."""
    clinic = rng.poisson(CLINIC_PER_MONTH * true_season(36)).astype(float).tolist()
    factors = decline.seasonal_factors(clinic)
    assert factors is not None
    return [factors[j % 12] for j in range(months)]


def simulate(partners: int = 1000, seed: int = 13, rates: tuple[float, ...] = RATES,
             ) -> list[Row]:
    rng = np.random.default_rng(seed)
    rows = []
    total = HISTORY_MONTHS + max(FOLLOW_MONTHS, MAX_DELAY)
    season_true = true_season(total)
    for rate in rates:
        season = estimated_season(rng, total)
        # Dropping partners.
        drop_months = HISTORY_MONTHS + MAX_DELAY
        multiplier = np.where(np.arange(drop_months) < HISTORY_MONTHS, 1.0, 0.5)
        counts = rng.poisson(rate * season_true[:drop_months] * multiplier,
                             size=(partners, drop_months))
        delays: list[float] = []
        for row in counts.tolist():
            delay = math.inf
            for k in range(1, MAX_DELAY + 1):
                end = HISTORY_MONTHS + k
                if decline.detect(row[:end], season[:end]).fires:
                    delay = k
                    break
            delays.append(delay)
        within = sum(d <= DETECT_WITHIN for d in delays) / partners
        median = float(np.median(delays))
        # Steady partners.
        steady_months = HISTORY_MONTHS + FOLLOW_MONTHS
        counts = rng.poisson(rate * season_true[:steady_months], size=(partners, steady_months))
        onsets = on_months = 0
        for row in counts.tolist():
            before = decline.detect(row[:HISTORY_MONTHS], season[:HISTORY_MONTHS]).fires
            for end in range(HISTORY_MONTHS + 1, steady_months + 1):
                now = decline.detect(row[:end], season[:end]).fires
                onsets += now and not before
                on_months += now
                before = now
        rows.append(Row(
            rate=rate, partners=partners, detected_within=within,
            median_delay=None if math.isinf(median) else median,
            false_alarms_per_year=onsets / (partners * FOLLOW_MONTHS / 12),
            alert_month_share=on_months / (partners * FOLLOW_MONTHS)))
    return rows


@dataclass(frozen=True)
class Bound:
    rate: float
    partners: int
    detected_within: float
    """The best share detected within DETECT_WITHIN months at <= ``max_false_alarms``."""
    design_ratio: float
    threshold: float
    false_alarms_per_year: float


def _cusum(counts: np.ndarray, expected: float, ratio: float) -> np.ndarray:
    """The CUSUM statistic after each month, for every partner (rows) at once."""
    out = np.empty(counts.shape)
    s = np.zeros(counts.shape[0])
    for j in range(counts.shape[1]):
        s = np.maximum(0.0, s + counts[:, j] * math.log(ratio) + (1 - ratio) * expected)
        out[:, j] = s
    return out


def oracle_bound(partners: int = 20000, seed: int = 5, rates: tuple[float, ...] = RATES,
                 max_false_alarms: float = 0.2,
                 ratios: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)) -> list[Bound]:
    """The best detection within DETECT_WITHIN months that a CUSUM knowing the true rate gets
    while raising at most ``max_false_alarms`` alerts per steady partner-year (counted as
    the app counts them: months in which the alert newly appears)."""
    rng = np.random.default_rng(seed)
    thresholds = np.round(np.arange(0.5, 8.0, 0.05), 2)
    bounds = []
    for rate in rates:
        steady = rng.poisson(rate, size=(partners, HISTORY_MONTHS + FOLLOW_MONTHS))
        drop = np.concatenate(
            [rng.poisson(rate, size=(partners, HISTORY_MONTHS)),
             rng.poisson(rate / 2, size=(partners, DETECT_WITHIN))], axis=1)
        best: Bound | None = None
        for ratio in ratios:
            followed = _cusum(steady, rate, ratio)[:, HISTORY_MONTHS - 1:]
            after = _cusum(drop, rate, ratio)[:, HISTORY_MONTHS:]
            for h in thresholds:
                on = followed >= h
                onsets = int((on[:, 1:] & ~on[:, :-1]).sum())
                per_year = onsets / (partners * FOLLOW_MONTHS / 12)
                if per_year > max_false_alarms:
                    continue
                detected = float((after >= h).any(axis=1).mean())
                if best is None or detected > best.detected_within:
                    best = Bound(rate, partners, detected, ratio, float(h), per_year)
        assert best is not None
        bounds.append(best)
    return bounds


def bound_table(bounds: list[Bound]) -> str:
    lines = [
        f"| Rate a month | Partners | Best detected within {DETECT_WITHIN} months "
        "| Design ratio | Threshold | False alarms per partner-year |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for b in bounds:
        lines.append(f"| {b.rate:g} | {b.partners} | {b.detected_within:.0%} "
                     f"| {b.design_ratio:g} | {b.threshold:g} | {b.false_alarms_per_year:.3f} |")
    return "\n".join(lines)


def table(rows: list[Row]) -> str:
    lines = [
        f"| Rate a month | Partners | Detected within {DETECT_WITHIN} months of halving "
        "| Median delay (months) | False alarms per partner-year (steady) "
        "| Steady months alerting |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        delay = "never" if r.median_delay is None else f"{r.median_delay:g}"
        lines.append(
            f"| {r.rate:g} | {r.partners} | {r.detected_within:.0%} | {delay} "
            f"| {r.false_alarms_per_year:.3f} | {r.alert_month_share:.1%} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--oracle", action="store_true",
                        help="also print the ceiling of a CUSUM that knows the true rate")
    args = parser.parse_args()
    print(f"Poisson CUSUM, design ratio {decline.DESIGN_RATIO}, threshold {decline.THRESHOLD}, "
          f"window {decline.WINDOW_MONTHS} months, baseline up to {decline.BASELINE_MONTHS} "
          f"months; seed {args.seed}")
    print(table(simulate(args.partners, args.seed)))
    if args.oracle:
        print()
        print("Ceiling: a CUSUM told the true rate, best design ratio and threshold at <= 0.2 "
              "false alarms per partner-year")
        print(bound_table(oracle_bound()))


if __name__ == "__main__":
    main()
