"""Small, exact statistics used by scorecards, NPS analytics and packets.

Pure functions, no I/O: the Wilson score interval for a proportion, the Net Promoter Score with
its margin of error from the trinomial variance, and medians.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.96
"""The two-sided 95% normal quantile, rounded as in the published formulas (1.959964)."""


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for ``successes`` out of ``n`` (fractions 0-1); None when n is 0.

    Unlike the normal approximation it stays inside 0-1 and behaves for small n and for rates
    near 0 or 1 (Wilson 1927; Brown, Cai & DasGupta 2001)."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n; got {successes} of {n}.")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # Exact at the edges (float noise would put 1.0 just outside [lo, hi] when k = n).
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


@dataclass(frozen=True)
class Nps:
    """A Net Promoter summary: counts, the score (-100..100) and its 95% margin of error."""

    promoters: int
    passives: int
    detractors: int

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """% promoters minus % detractors; None without answers."""
        if self.n == 0:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.n

    @property
    def moe95(self) -> float | None:
        """100 x 1.96 x sqrt(((p + d) - (p - d)^2) / n): the trinomial 95% margin of error."""
        if self.n == 0:
            return None
        p = self.promoters / self.n
        d = self.detractors / self.n
        variance = max(0.0, (p + d) - (p - d) ** 2)
        return 100.0 * Z95 * math.sqrt(variance / self.n)

    def as_dict(self) -> dict[str, float | int | None]:
        return {"n": self.n, "score": self.score, "moe95": self.moe95,
                "promoters": self.promoters, "passives": self.passives,
                "detractors": self.detractors}


def nps_from_scores(scores: Sequence[int]) -> Nps:
    """Count 0-10 answers into promoters (9-10), passives (7-8) and detractors (0-6)."""
    from outcomes.measures.nps import category

    kinds = [category(s) for s in scores]
    return Nps(kinds.count("promoter"), kinds.count("passive"), kinds.count("detractor"))


def median(values: Sequence[float]) -> float | None:
    """The median of ``values`` (mean of the middle two for an even count); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2.0


__all__ = ["Z95", "Nps", "median", "nps_from_scores", "wilson"]
