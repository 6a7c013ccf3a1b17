"""Net Promoter answers: the one definition of the categories, and storage.

A 0-10 answer to "How likely are you to recommend us?" is a promoter at 9-10, a passive at 7-8
and a detractor at 0-6 (Reichheld 2003). Every count of promoters and detractors in the app,
in Python or in SQL, comes from :func:`category` and :func:`counts_sql`; the frozen SQL of the
roll-up migration (``outcomes.store.schema``) spells the same cut-offs and a test keeps the two
equal. Analytics live in ``outcomes.reports.nps``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    # Storage needs pydantic and sqlite-utils; the category rule does not, and the dashboard's
    # first screen counts NPS through it (reports.rollups): those imports wait for save_nps.
    from sqlite_utils import Database

    from outcomes.models import NpsResponse

PROMOTER_MIN = 9
"""Answers from 9 up are promoters."""
PASSIVE_MIN = 7
"""Answers of 7 and 8 are passives; below 7, detractors."""

Category = Literal["promoter", "passive", "detractor"]


def category(score: int) -> Category:
    """The Net Promoter category of a 0-10 answer."""
    if score >= PROMOTER_MIN:
        return "promoter"
    if score >= PASSIVE_MIN:
        return "passive"
    return "detractor"


def counts_sql(column: str) -> str:
    """``sum(promoter), sum(passive), sum(detractor)`` over ``column`` as SQL (total() where the
    caller wants floats is not needed: sums of booleans are integers)."""
    return (f"sum({column} >= {PROMOTER_MIN}), "
            f"sum({column} BETWEEN {PASSIVE_MIN} AND {PROMOTER_MIN - 1}), "
            f"sum({column} < {PASSIVE_MIN})")


INSERT_SQL = (
    "INSERT INTO nps_responses (episode_id, date, score, comment, created_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def row(response: NpsResponse, created_at: str) -> tuple[object, ...]:
    return (response.episode_id, response.date.isoformat(), response.score, response.comment,
            created_at)


@dataclass(frozen=True)
class NpsSaved:
    """An NPS answer stored (or found already on file)."""

    response: NpsResponse
    added: bool
    """False when the same answer was already on file (nothing changed)."""

    def message(self) -> str:
        r = self.response
        where = f" for {r.episode_id}" if r.episode_id else ""
        if self.added:
            return f"Saved NPS {r.score} ({category(r.score)}){where}."
        return f"That NPS answer{where} was already on file; nothing changed."


def save_nps(db: Database, fields: Mapping[str, Any] | NpsResponse, *,
             today: date | None = None) -> NpsSaved:
    """Validate and store one NPS answer. ``fields``: ``score`` (0-10), ``date`` (default
    today), ``episode_id`` (None: counts clinic-wide only), ``comment`` (stored as typed)."""
    from outcomes.dates import now_iso
    from outcomes.models import NpsResponse, validate
    from outcomes.network.episodes import get_episode
    from outcomes.store import audit
    from outcomes.store.database import transaction

    if isinstance(fields, NpsResponse):
        response = fields
    else:
        data = {k: v for k, v in fields.items() if v is not None}
        data.setdefault("date", today)
        if not data.get("episode_id"):
            data.pop("episode_id", None)
        response = validate(NpsResponse, data, today=today)
    if response.episode_id:
        get_episode(db, response.episode_id)
    with transaction(db):
        added = db.execute(INSERT_SQL, row(response, now_iso())).rowcount > 0
        if added:
            audit.log(db, "add", "nps_responses", episode_id=response.episode_id,
                      date=response.date.isoformat(), score=response.score)
    return NpsSaved(response, added)


def add_nps(db: Database, response: NpsResponse) -> bool:
    """Store one validated NPS answer; False when it was already on file."""
    return save_nps(db, response).added
