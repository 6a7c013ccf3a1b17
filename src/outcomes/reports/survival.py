"""The Kaplan-Meier estimator, pure: times and events in, a survival curve with its confidence
band and median out. No I/O; the reader that builds times from the database is
``outcomes.reports.recovery``.

Conventions, chosen to match R's ``survival::survfit`` so figures can be checked against it:

- Greenwood's variance. ``V(t) = sum over event times t_i <= t of d_i / (n_i (n_i - d_i))`` is
  the variance of log S(t); Var S(t) = S(t)^2 V(t).
- The pointwise 95% band uses the **log-log** transform (Kalbfleisch & Prentice): the interval
  for log(-log S) is symmetric, so the band stays inside 0-1 and behaves at the small numbers
  at risk a clinic has in a curve's tail. ``transform="log"`` (R's default) is kept so the
  estimator can be checked against the many published outputs that use it.
- The median is the first time the curve is at or below 0.5; where the curve sits exactly at
  0.5 it is the midpoint to the next event time (so without censoring it equals the sample
  median). Its 95% interval is Brookmeyer & Crowley's (1982): the times where the pointwise
  band crosses 0.5, with the same transform as the band. An end that is never reached is None
  (R prints NA): "not reached within follow-up", which is information, not a failure.
- At S = 0 the band is [0, 0] (the estimate is certain to have fallen by then); the variance
  term of a time where everyone at risk has the event is left out for the same reason.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

Transform = Literal["log-log", "log"]

# Survival values are products of fractions: one ulp of noise must not move a median.
_EPS = 1e-12


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan-Meier curve: one entry per distinct event time, in increasing order."""

    n: int
    """Observations (events and censored)."""
    n_events: int
    times: tuple[float, ...]
    at_risk: tuple[int, ...]
    events: tuple[int, ...]
    survival: tuple[float, ...]
    std_err: tuple[float, ...]
    """Greenwood standard error of S(t)."""
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    transform: Transform = "log-log"
    conf_level: float = 0.95

    def survival_at(self, t: float) -> float:
        """S(t): the curve is right-continuous, 1 before the first event time."""
        value = 1.0
        for time, s in zip(self.times, self.survival, strict=True):
            if time > t:
                break
            value = s
        return value

    def median(self) -> float | None:
        """The median time; None when the curve never falls to 0.5."""
        return _quantile(self.times, self.survival)

    def median_ci(self) -> tuple[float | None, float | None]:
        """Brookmeyer-Crowley interval for the median: (lower, upper), None where the band
        never crosses 0.5 within follow-up."""
        return _quantile(self.times, self.lower), _quantile(self.times, self.upper)

    def steps(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The step chart: (times, survival) starting at (0, 1); each value holds from its
        time until the next."""
        return (0.0, *self.times), (1.0, *self.survival)


def kaplan_meier(times: Sequence[float], events: Sequence[bool | int], *,
                 conf_level: float = 0.95, transform: Transform = "log-log") -> KaplanMeier:
    """The Kaplan-Meier estimate from follow-up ``times`` and ``events`` (True: the event
    happened at that time; False: censored then). A censored time equal to an event time
    counts as still at risk at that event (the usual convention)."""
    if len(times) != len(events):
        raise ValueError(f"times and events differ in length ({len(times)} and {len(events)}).")
    if transform not in ("log-log", "log"):
        raise ValueError(f"transform must be 'log-log' or 'log'; got {transform!r}.")
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1; got {conf_level}.")
    for t in times:
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"times must be finite and non-negative; got {t!r}.")
    z = NormalDist().inv_cdf(0.5 + conf_level / 2)
    died = Counter(float(t) for t, e in zip(times, events, strict=True) if e)
    left = Counter(float(t) for t in times)
    at_risk = len(times)
    s = 1.0
    var_log = 0.0
    out_t: list[float] = []
    out_n: list[int] = []
    out_d: list[int] = []
    out_s: list[float] = []
    out_se: list[float] = []
    out_lo: list[float] = []
    out_hi: list[float] = []
    for t in sorted(left):
        d = died.get(t, 0)
        if d:
            s *= 1.0 - d / at_risk
            if d < at_risk:
                var_log += d / (at_risk * (at_risk - d))
            lo, hi = _band(s, var_log, z, transform)
            out_t.append(t)
            out_n.append(at_risk)
            out_d.append(d)
            out_s.append(s)
            out_se.append(s * math.sqrt(var_log))
            out_lo.append(lo)
            out_hi.append(hi)
        at_risk -= left[t]
    return KaplanMeier(n=len(times), n_events=sum(died.values()), times=tuple(out_t),
                       at_risk=tuple(out_n), events=tuple(out_d), survival=tuple(out_s),
                       std_err=tuple(out_se), lower=tuple(out_lo), upper=tuple(out_hi),
                       transform=transform, conf_level=conf_level)


def _band(s: float, var_log: float, z: float, transform: Transform) -> tuple[float, float]:
    if s <= 0.0:
        return 0.0, 0.0
    if s >= 1.0 or var_log == 0.0:
        return s, s
    se = math.sqrt(var_log)
    if transform == "log":
        return s * math.exp(-z * se), min(1.0, s * math.exp(z * se))
    # log-log: S ** exp(+-z se / log S); log S < 0, so the exponent's sign picks the side.
    w = z * se / math.log(s)
    a, b = s ** math.exp(w), s ** math.exp(-w)
    return min(a, b), max(a, b)


def _quantile(times: Sequence[float], curve: Sequence[float], p: float = 0.5) -> float | None:
    for i, value in enumerate(curve):
        if value <= p + _EPS:
            if abs(value - p) <= _EPS and i + 1 < len(times):
                return (times[i] + times[i + 1]) / 2.0
            return times[i]
    return None


__all__ = ["KaplanMeier", "Transform", "kaplan_meier"]
