"""Recompute stored scores with the current instrument definitions, and say what changes.

Changing a definition file never silently changes stored scores: scores are written when a
response is stored, with the instrument version used. This is the one way to update them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from outcomes.measures import catalog, scoring
from outcomes.measures import summary as outcome_summary
from outcomes.store import audit
from outcomes.store.database import transaction


@dataclass(frozen=True)
class ScoreChange:
    response_id: int
    episode_id: str
    instrument: str
    timepoint: str
    date: str
    old_version: str
    new_version: str
    old: dict[str, float | None]
    new: dict[str, float | None]


def rescore(db: Database, *, apply: bool = False) -> list[ScoreChange]:
    known = catalog.instruments()
    changes: list[ScoreChange] = []
    for rid, episode_id, instrument_id, timepoint, when, version, answers, scores in db.execute(
        "SELECT id, episode_id, instrument, timepoint, date, instrument_version, answers, scores"
        " FROM responses WHERE answers IS NOT NULL ORDER BY id"
    ):
        instrument = known.get(instrument_id)
        if instrument is None:
            continue
        old = json.loads(scores)
        new = dict(scoring.score(instrument, json.loads(answers)).scores)
        if old != new or version != instrument.version:
            changes.append(ScoreChange(rid, episode_id, instrument_id, timepoint, when, version,
                                       instrument.version, old, new))
    if apply and changes:
        with transaction(db):
            for change in changes:
                result = scoring.score(known[change.instrument], json.loads(db.execute(
                    "SELECT answers FROM responses WHERE id = ?", [change.response_id]
                ).fetchone()[0]))
                db.execute(
                    "UPDATE responses SET scores = ?, scorable = ?, reason = ?,"
                    " instrument_version = ? WHERE id = ?",
                    [json.dumps(change.new), int(result.scorable), result.reason,
                     change.new_version, change.response_id],
                )
            outcome_summary.refresh(db, {c.episode_id for c in changes})
            audit.log(db, "rescore", "responses", changed=len(changes))
    return changes
