"""Commands for the referral network: partners, referrals, touchpoints, alerts, prospects."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
