"""The instruments this installation knows: the shipped definitions plus the clinic's own."""

from __future__ import annotations

from functools import cache

from outcomes.measures.instruments import Instrument, load_instruments
from outcomes.paths import user_surveys_dir


@cache
def instruments() -> dict[str, Instrument]:
    """Shipped definitions, then any in the user's ``surveys/`` config folder (same id wins)."""
    user_dir = user_surveys_dir()
    return load_instruments([user_dir] if user_dir.is_dir() else None)
