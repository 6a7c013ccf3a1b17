"""Finding a patient's episode of care and everything the patient screen shows. Read-only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from outcomes import vocab
from outcomes.store.database import like_pattern, row_as_dict

if TYPE_CHECKING:
    from outcomes.store.database import Queryable

@dataclass(frozen=True)
class EpisodeRow:
    id: str
    record_number: str
    patient: str | None
    referral_date: str
    partner: str | None
    body_region: str
    status: str
    instrument: str | None


FIND_PATIENTS_MAX = 2000
"""Above this many matching patients, episodes are read newest first and filtered instead."""

_EPISODE_COLUMNS = (
    "SELECT e.id, pt.record_number, pt.name, e.referral_date, pa.name, e.body_region,"
    " e.status, e.instrument FROM episodes e JOIN patients pt ON pt.id = e.patient_id"
    " LEFT JOIN partners pa ON pa.id = e.partner_id"
)


def _glob_prefix(text: str) -> str:
    """A GLOB pattern matching values that start with ``text`` literally (indexable)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text) + "*"


def find_episodes(db: Queryable, text: str = "", limit: int = 50) -> list[EpisodeRow]:
    """Episodes of patients whose record number or name contains every word of ``text``, or whose
    episode id starts with it, newest referral first (at most ``limit``).

    Fast on a big clinic: the patients are matched first (one pass over the patients table),
    then their episodes are read through the patient index; episode ids are matched on the
    primary key. When very many patients match, episodes are read newest first instead and the
    first ``limit`` that match are kept."""
    limit = max(1, limit)
    order = " ORDER BY e.referral_date DESC, e.id DESC LIMIT ?"
    words = text.split()
    if not words:
        return [EpisodeRow(*r) for r in db.execute(_EPISODE_COLUMNS + order, [limit])]
    clauses = " AND ".join(
        "(record_number LIKE ? ESCAPE '\\' OR coalesce(name, '') LIKE ? ESCAPE '\\')"
        for _ in words)
    params = [p for w in words for p in (like_pattern(w), like_pattern(w))]
    patient_sql = f"SELECT id FROM patients WHERE {clauses}"
    ids = [r[0] for r in db.execute(f"{patient_sql} LIMIT ?",
                                    [*params, FIND_PATIENTS_MAX + 1])]
    by_id = ""
    id_params: list[Any] = []
    if len(words) == 1:
        # Episode ids are usually typed from their start: match a prefix on the primary key, as
        # typed and upper-cased ("e0001" finds E0001).
        by_id = " OR e.id GLOB ? OR e.id GLOB ?"
        id_params = [_glob_prefix(words[0]), _glob_prefix(words[0].upper())]
    if len(ids) > FIND_PATIENTS_MAX:
        # Many match: walking the episodes newest first finds ``limit`` of them at once.
        pt_clauses = clauses.replace("record_number", "pt.record_number").replace(
            "coalesce(name", "coalesce(pt.name")
        sql = f"{_EPISODE_COLUMNS} WHERE ({pt_clauses}){by_id}{order}"
        return [EpisodeRow(*r) for r in db.execute(sql, [*params, *id_params, limit])]
    sql = (f"{_EPISODE_COLUMNS} WHERE e.patient_id IN (SELECT value FROM json_each(?))"
           f"{by_id}{order}")
    return [EpisodeRow(*r) for r in db.execute(sql, [json.dumps(ids), *id_params, limit])]


@dataclass(frozen=True)
class ResponseRow:
    id: int
    instrument: str
    timepoint: str
    date: str
    scores: dict[str, float | None]
    scorable: bool
    reason: str | None
    answers: list[int | None] | None
    amended: str | None = None
    """When amended: "on DATE: reason" (the old answers are in the audit log)."""


@dataclass(frozen=True)
class EpisodeDetail:
    episode: dict[str, Any]
    record_number: str
    patient: str | None
    partner: str | None
    responses: list[ResponseRow]
    nps: list[dict[str, Any]]
    letters: list[dict[str, Any]]

    def trajectory(self, scale: str) -> list[tuple[str, float]]:
        """(date, score) of every scored response on ``scale``, in date order."""
        return [
            (r.date, float(v))
            for r in sorted(self.responses, key=lambda r: (r.date, r.id))
            if (v := r.scores.get(scale)) is not None
        ]

    def scales(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.responses:
            for s, v in r.scores.items():
                if v is not None:
                    seen[s] = None
        return list(seen)


def episode_detail(db: Queryable, episode_id: str) -> EpisodeDetail:
    episode = row_as_dict(db, "SELECT * FROM episodes WHERE id = ?", [episode_id],
                   f"No episode with id {episode_id!r}.")
    pt = db.execute(
        "SELECT record_number, name FROM patients WHERE id = ?", [episode["patient_id"]]
    ).fetchone()
    partner = None
    if episode["partner_id"] is not None:
        row = db.execute("SELECT name FROM partners WHERE id = ?", [episode["partner_id"]])
        partner = row.fetchone()[0]
    responses = [
        ResponseRow(
            id=r[0], instrument=r[1], timepoint=r[2], date=r[3], scores=json.loads(r[4]),
            scorable=bool(r[5]), reason=r[6], answers=json.loads(r[7]) if r[7] else None,
            amended=f"on {r[8][:10]}: {r[9]}" if r[8] else None,
        )
        for r in db.execute(
            "SELECT id, instrument, timepoint, date, scores, scorable, reason, answers,"
            " amended_at, amendment_reason"
            " FROM responses WHERE episode_id = ? ORDER BY date, id", [episode_id])
    ]
    nps = [
        {"date": r[0], "score": r[1], "comment": r[2]}
        for r in db.execute(
            "SELECT date, score, comment FROM nps_responses WHERE episode_id = ? ORDER BY date",
            [episode_id])
    ]
    letters = [
        {"date": r[0], "kind": r[1], "channel": r[2], "partner": r[3], "note": r[4]}
        for r in db.execute(
            "SELECT c.date, c.kind, c.channel, p.name, c.note FROM communications c"
            " JOIN partners p ON p.id = c.partner_id WHERE c.episode_id = ? ORDER BY c.date",
            [episode_id])
    ]
    return EpisodeDetail(
        episode=episode, record_number=pt[0], patient=pt[1], partner=partner,
        responses=responses, nps=nps, letters=letters,
    )


def next_timepoint(detail: EpisodeDetail, instrument: str) -> str:
    """The timepoint a new response most likely is: intake first; after a discharge response,
    follow-up; discharge once the episode is discharged; otherwise progress."""
    taken = {r.timepoint for r in detail.responses if r.instrument == instrument}
    if "intake" not in taken:
        return "intake"
    if "discharge" in taken:
        return "follow_up"
    if detail.episode.get("status") == "discharged":
        return "discharge"
    return "progress"


def default_instrument(detail: EpisodeDetail, region_default: dict[str, str]) -> str | None:
    """The episode's own instrument, else the one its responses use, else the region's usual one."""
    if detail.episode.get("instrument"):
        return str(detail.episode["instrument"])
    for r in detail.responses:
        return r.instrument
    return region_default.get(str(detail.episode.get("body_region")))



REGION_INSTRUMENT = vocab.DEFAULT_INSTRUMENT_BY_REGION
