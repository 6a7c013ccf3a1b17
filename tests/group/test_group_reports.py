"""The group scorecard's arithmetic on PostgreSQL's aggregates, without a server: the pooled
packet effect from sums equals the clinic scorecard's from the packets themselves."""

from __future__ import annotations

import math
import statistics

from hypothesis import given
from hypothesis import strategies as st

from outcomes.group.reports import pooled_from_sums
from outcomes.network.packet_effect import PacketEffect, pooled

counts = st.integers(min_value=0, max_value=400)


def _effects(pairs: list[tuple[int, int]], incomplete: int) -> list[PacketEffect]:
    done = [PacketEffect(i, 1, "Dr. A", "2026-01-01", b, a, True)
            for i, (b, a) in enumerate(pairs)]
    # Packets whose after-window is still open are left out of the pooled figure.
    return done + [PacketEffect(1000 + i, 1, "Dr. A", "2026-11-01", 3, 0, False)
                   for i in range(incomplete)]


def _sums(pairs: list[tuple[int, int]]) -> tuple[int, float, float, float | None]:
    """What the _PACKETS query returns for these complete packets."""
    changes = [a - b for b, a in pairs]
    sd = statistics.stdev(changes) if len(changes) >= 2 else None
    return len(pairs), float(sum(b for b, _ in pairs)), float(sum(a for _, a in pairs)), sd


@given(st.lists(st.tuples(counts, counts), max_size=40), st.integers(0, 3))
def test_pooled_from_sums_equals_the_clinics_pooled(pairs: list[tuple[int, int]],
                                                     incomplete: int) -> None:
    want = pooled(_effects(pairs, incomplete)).as_dict()
    got = pooled_from_sums(*_sums(pairs)).as_dict()
    assert set(got) == set(want)
    for key, value in want.items():
        if key == "ci95" and value is not None:
            assert got[key] is not None
            for g, w in zip(got[key], value, strict=True):
                assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-9)
        elif isinstance(value, float):
            assert math.isclose(got[key], value, rel_tol=1e-9, abs_tol=1e-9)
        else:
            assert got[key] == value, key


def test_one_packet_has_no_interval_and_two_have_one() -> None:
    one = pooled_from_sums(1, 4.0, 7.0, None)
    assert (one.packets, one.mean_change, one.ci95) == (1, 3.0, None)
    # Changes +1 and +5: mean 3, sd 2*sqrt(2), t(0.975, 1) = 12.706: half-width 25.41.
    two = pooled_from_sums(2, 10.0, 16.0, 2 * math.sqrt(2))
    assert two.ci95 is not None
    assert math.isclose(two.ci95[1] - 3.0, 12.7062047 * 2, rel_tol=1e-6)
