"""The referral network: partners, referrals received (episodes of care) and sent, touchpoints
and the gift/meal limit, communications, relationship stages, alerts and prospects."""
