"""Did the packet help? Window edges, completeness, and the pooled paired CI checked by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.network.packet_effect import CAUTION, packet_effects, pooled
from outcomes.periods import RECENT_DAYS
from outcomes.studentt import t_cdf, t_quantile
from tests.network.helpers import TODAY, add_comm, add_partner, add_referral

D = RECENT_DAYS


def test_windows_are_the_days_before_and_after_never_the_day_itself(db: Database) -> None:
    pid = add_partner(db, "Dr. Packet")
    sent = TODAY - timedelta(days=200)
    add_comm(db, pid, sent, kind="packet")
    for days in (-D - 1, -D, -1, 0, 1, D, D + 1):    # relative to the packet's day
        add_referral(db, pid, sent + timedelta(days=days))
    other = add_partner(db, "Dr. Other")
    add_referral(db, other, sent + timedelta(days=5))
    [effect] = packet_effects(db, TODAY)
    # Before: days -90 and -1; after: days 1 and 90.
    assert (effect.before, effect.after, effect.complete, effect.change) == (2, 2, True, 0)
    assert effect.partner == "Dr. Packet" and effect.sent == sent.isoformat()


def test_a_packet_is_pooled_only_once_its_after_window_is_over(db: Database) -> None:
    pid = add_partner(db, "Dr. Packet")
    add_comm(db, pid, TODAY - timedelta(days=D - 1), kind="packet")    # one day short
    add_comm(db, pid, TODAY - timedelta(days=10), kind="letter")       # not a packet
    add_comm(db, pid, TODAY + timedelta(days=1), kind="packet")        # not sent yet
    [effect] = packet_effects(db, TODAY)
    assert effect.complete is False
    assert pooled([effect]).packets == 0 and pooled([effect]).mean_change is None
    # A day later its after-window has ended: exactly D days after the packet.
    assert [e.complete for e in packet_effects(db, TODAY + timedelta(days=1))] == [True, False]


def test_pooled_change_and_paired_ci_match_a_hand_computation(db: Database) -> None:
    # Five packets, each to its own partner: 0 referrals before, 1..5 after.
    first = 0
    for i in range(1, 6):
        pid = add_partner(db, f"Dr. {i}")
        first = first or pid
        sent = TODAY - timedelta(days=200)
        add_comm(db, pid, sent, kind="packet")
        for k in range(i):
            add_referral(db, pid, sent + timedelta(days=10 + k))
    result = pooled(packet_effects(db, TODAY))
    # By hand: differences 1..5, mean 3, sd sqrt(2.5) = 1.581139, se = 0.707107; t(0.975, 4)
    # = 2.776445 from a printed t table; half-width 1.963243.
    assert (result.packets, result.mean_before, result.mean_after) == (5, 0.0, 3.0)
    assert result.mean_change == 3.0
    assert result.ci95 == pytest.approx((1.036757, 4.963243), abs=1e-6)
    assert result.as_dict()["caution"] == CAUTION
    assert "association, not cause" in CAUTION
    one = packet_effects(db, TODAY, partner_id=first)
    assert len(one) == 1 and pooled(one).ci95 is None and pooled(one).mean_change == 1.0


def test_identical_changes_give_a_zero_width_interval(db: Database) -> None:
    for i in range(3):
        pid = add_partner(db, f"Dr. {i}")
        add_comm(db, pid, TODAY - timedelta(days=150), kind="packet")
        add_referral(db, pid, TODAY - timedelta(days=160))
    result = pooled(packet_effects(db, TODAY))
    assert result.mean_change == -1.0 and result.ci95 == (-1.0, -1.0)


@pytest.mark.parametrize(("df", "expected"), [
    (1, 12.706205), (2, 4.302653), (4, 2.776445), (10, 2.228139), (30, 2.042272),
    (120, 1.979930),
])
def test_t_quantiles_match_printed_tables(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-6)


@given(df=st.integers(1, 500), t=st.floats(-50, 50))
def test_t_cdf_is_symmetric_and_inverts(df: int, t: float) -> None:
    assert t_cdf(t, df) + t_cdf(-t, df) == pytest.approx(1.0, abs=1e-9)
    if t > 0.01 and t_cdf(t, df) < 1 - 1e-9:
        assert t_quantile(t_cdf(t, df), df) == pytest.approx(t, rel=1e-6)


def test_a_packet_counts_from_the_day_it_was_sent_and_not_at_all_if_only_made(
        db: Database) -> None:
    from outcomes.network.communications import mark_sent

    pid = add_partner(db, "Dr. Packet")
    made = TODAY - timedelta(days=200)
    add_comm(db, pid, made, kind="packet")
    db.execute("UPDATE communications SET status = 'made', sent_date = NULL")
    add_referral(db, pid, made + timedelta(days=3))
    assert packet_effects(db, TODAY) == []
    [cid] = [r[0] for r in db.execute("SELECT id FROM communications")]
    mark_sent(db, cid, channel="fax", when=(made + timedelta(days=5)).isoformat(), today=TODAY)
    [effect] = packet_effects(db, TODAY)
    # Sent on day 5: the referral of day 3 came before it.
    assert (effect.sent, effect.before, effect.after) == (
        (made + timedelta(days=5)).isoformat(), 1, 0)
