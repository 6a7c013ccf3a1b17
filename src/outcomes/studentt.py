"""Student's t distribution without scipy: the CDF, the density and the quantile.

Pure functions, shared by every confidence interval on a mean (the risk model's observed minus
expected, the packet effect's paired change). The incomplete beta function follows Numerical
Recipes 6.4 (continued fraction, modified Lentz); tests check the quantile against published
table values, the CDF, the Cauchy quantile (one degree of freedom) and the density.
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive; got {df}.")
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_pdf(t: float, df: float) -> float:
    """The density of Student's t with ``df`` degrees of freedom."""
    return math.exp(math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0)
                    - 0.5 * math.log(df * math.pi) - (df + 1.0) / 2.0 * math.log1p(t * t / df))


# A scorecard asks for the same few quantiles (0.975 at each partner's n - 1) hundreds of times.
@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (Newton's method on :func:`t_cdf` inside a bracket
    that bisection takes over whenever a step would leave it, to 1e-12)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be between 0 and 1; got {p}.")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if df >= 1000:
        # Cornish-Fisher expansion about the normal quantile (Abramowitz & Stegun 26.7.5):
        # below 1e-12 from the exact value at these degrees of freedom, and it spares the
        # bisection on the deciles of a large clinic.
        return _cornish_fisher(p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    # The series is a close first guess from a few degrees of freedom up: Newton then needs
    # three or four evaluations of the CDF where bisection needed about forty.
    t = _cornish_fisher(p, df)
    if not lo < t < hi:
        t = (lo + hi) / 2.0
    for _ in range(200):
        below = t_cdf(t, df) - p
        if below < 0:
            lo = t
        else:
            hi = t
        step = below / t_pdf(t, df)
        new = t - step
        if not lo <= new <= hi:
            new = (lo + hi) / 2.0
        if abs(new - t) < 1e-12 * max(1.0, abs(new)) or hi - lo < 1e-12 * max(1.0, hi):
            return new
        t = new
    return t  # pragma: no cover - Newton inside a bracket converges long before this


def _cornish_fisher(p: float, df: float) -> float:
    # Cornish-Fisher expansion about the normal quantile (Abramowitz & Stegun 26.7.5): below
    # 1e-12 from the exact value from 1000 degrees of freedom, and it spares the iteration on
    # the deciles of a large clinic.
    x = NormalDist().inv_cdf(p)
    g1 = (x**3 + x) / 4
    g2 = (5 * x**5 + 16 * x**3 + 3 * x) / 96
    g3 = (3 * x**7 + 19 * x**5 + 17 * x**3 - 15 * x) / 384
    g4 = (79 * x**9 + 776 * x**7 + 1482 * x**5 - 1920 * x**3 - 945 * x) / 92160
    return float(x + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4)


__all__ = ["t_cdf", "t_pdf", "t_quantile"]
