"""The scorecard carries the referral funnel and "did the packet help?" from the network rules,
for each partner and summed for the clinic."""

from __future__ import annotations

from outcomes.network import frontdesk, packet_effect
from outcomes.periods import default_period, whole_days
from outcomes.reports.rollups import funnels as read_funnels
from outcomes.reports.scorecard import scorecard
from tests.conftest import DEMO_TODAY


def test_funnel_and_packet_effect_per_partner_and_for_the_clinic(demo_db) -> None:
    period = default_period(DEMO_TODAY)
    card = scorecard(demo_db, period.start, period.end)
    funnels = read_funnels(demo_db, whole_days(period))  # the episodes, not the roll-ups
    assert card.partners
    for partner in card.partners:
        assert partner.funnel == funnels.get(partner.partner_id, frontdesk.Funnel())
        assert partner.packet_effect == packet_effect.pooled(
            packet_effect.packet_effects(demo_db, period.end, partner.partner_id))
    clinic = card.clinic.funnel
    assert clinic.received == sum(f.received for f in funnels.values()) == card.clinic.referrals
    assert clinic.completed == sum(f.completed for f in funnels.values())
    reasons: dict[str, int] = {}
    for f in funnels.values():
        for reason, n in f.not_scheduled.items():
            reasons[reason] = reasons.get(reason, 0) + n
    assert clinic.not_scheduled == reasons
    assert card.clinic.packet_effect == packet_effect.pooled(
        packet_effect.packet_effects(demo_db, period.end))
    data = card.as_dict()
    assert data["clinic"]["funnel"]["received"] == clinic.received
    assert "association, not cause" in data["clinic"]["packet_effect"]["caution"]
