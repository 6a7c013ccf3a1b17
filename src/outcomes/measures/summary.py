"""The per-episode outcome summary (``episode_outcomes``), maintained on every write.

For each episode and scale: the intake score (first intake response), the final score (last
discharge response; for a discharged episode without one, the last progress score, flagged as
carried forward), the improvement signed so positive is better, and whether the MCID was reached.
Each row also carries the episode's condition group, procedure and surgical status, and
``is_primary`` marks the one row per episode on its primary measure
(``outcomes.measures.conditions``), so a pooled rate counts each episode once.
Each row also carries the time to recovery on that scale (``recovery_days``, ``recovered``):
the days from the first visit to the first response after the intake whose improvement over
the intake score reaches the MCID (recovered), else to the last response after the intake
(censored); NULL without a first visit, an intake, a response after it or a published MCID.
Scorecards read this table only, so they never re-derive pairs from all raw responses.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.measures import catalog, scoring
from outcomes.measures.conditions import conditions, surgical_status
from outcomes.measures.instruments import Scale

_CHUNK = 500

EPISODE_FIELDS = ("id, partner_id, referral_date, clinician, status, discharge_date,"
                  " body_region, diagnosis, procedure, surgical, instrument, first_visit_date")
"""The columns of ``episodes`` that :func:`summarise` reads, in its order."""


@dataclass(frozen=True)
class _Scored:
    timepoint: str
    date: str
    id: int
    score: float


def refresh(db: Database, episode_ids: Iterable[str] | None = None, *,
            responses: Mapping[str, list[tuple[str, str, str, int, str]]] | None = None) -> int:
    """Recompute the summary rows of the given episodes (all when None); return rows written.

    ``responses`` is the caller's own copy of some episodes' stored responses, as
    :func:`summarise` takes them (ordered by date, then id): the bulk import builds it from the
    chunk it has just written plus what was stored before, so those episodes' responses are not
    read back and their new scores not decoded twice. Episodes it lacks are read from the
    database. Caller holds the transaction, so the summary always moves together with the data.
    """
    written = 0
    scales: dict[str, Any] = {}
    given = responses if responses is not None else {}
    for chunk in _episode_chunks(db, episode_ids):
        placeholders = ", ".join("?" for _ in chunk)
        episodes = {
            row[0]: row
            for row in db.execute(
                f"SELECT {EPISODE_FIELDS} FROM episodes WHERE id IN ({placeholders})",
                chunk,
            )
        }
        unknown = [eid for eid in chunk if eid not in given]
        read: dict[str, list[tuple[str, str, str, int, str]]] = {}
        if unknown:
            marks = ", ".join("?" for _ in unknown)
            rows = db.execute(
                "SELECT episode_id, instrument, timepoint, date, id, scores FROM responses"
                f" WHERE episode_id IN ({marks}) ORDER BY episode_id, date, id",
                unknown,
            )
            # Ordered by episode: one list per run of rows, no look-up per row.
            for eid, group in itertools.groupby(rows, _FIRST):
                read[eid] = [row[1:] for row in group]
        db.execute(f"DELETE FROM episode_outcomes WHERE episode_id IN ({placeholders})", chunk)
        rows_out = [r for eid in chunk if eid in episodes
                    for r in summarise(episodes[eid], given.get(eid) or read.get(eid, []),
                                       scales)]
        if rows_out:
            db.conn.executemany(
                "INSERT INTO episode_outcomes (episode_id, scale, instrument, partner_id,"
                " referral_date, clinician, intake_score, intake_date, final_score, final_date,"
                " carried_forward, improvement, mcid_met, condition_group, procedure, surgical,"
                " is_primary, recovery_days, recovered)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows_out,
            )
        written += len(rows_out)
    return written


_FIRST = operator.itemgetter(0)


def _episode_chunks(db: Database, episode_ids: Iterable[str] | None) -> Iterator[list[str]]:
    if episode_ids is None:
        ids = [r[0] for r in db.execute("SELECT id FROM episodes ORDER BY id")]
    else:
        ids = sorted(set(episode_ids))
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def summarise(episode: tuple[Any, ...], responses: list[tuple[str, str, str, int, str]],
              scales: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Summary rows for one episode from its responses (ordered by date, then id).

    ``scales`` is a cache of scale lookups (scale id -> Scale) shared across the episodes of
    one refresh."""
    if scales is None:
        scales = {}
    (episode_id, partner_id, referral_date, clinician, status, discharge_date, region,
     diagnosis, procedure, surgical, chosen, first_visit) = episode
    first_day = _day(first_visit)
    tables = conditions()
    group = tables.group(diagnosis, region)
    operated = surgical_status(surgical, procedure)
    discharged = status == "discharged" or discharge_date is not None
    by_scale: dict[tuple[str, str], list[_Scored]] = {}
    for instrument, timepoint, when, response_id, scores_json in responses:
        for scale_id, value in json.loads(scores_json).items():
            if value is not None:
                by_scale.setdefault((instrument, scale_id), []).append(
                    _Scored(timepoint, when, response_id, float(value))
                )
    known = catalog.instruments()
    answered = {instrument for (instrument, _scale), scored in by_scale.items()
                if any(s.timepoint == "intake" for s in scored)}
    main = tables.primary_instrument(region, chosen, answered)
    main_scale = next(iter(known[main].scales), None) if main in known else None
    rows = []
    for (instrument, scale_id), scored in sorted(by_scale.items()):
        intake = next((s for s in scored if s.timepoint == "intake"), None)
        discharge = [s for s in scored if s.timepoint == "discharge"]
        final, carried = (discharge[-1], False) if discharge else (None, False)
        if final is None and discharged:
            progress = [s for s in scored if s.timepoint == "progress"]
            if progress:
                final, carried = progress[-1], True
        improvement = mcid = None
        recovery: tuple[int, bool] | None = None
        if intake is not None and instrument in known:
            scale = scales.get(scale_id)
            if scale is None:
                scale = scales[scale_id] = scoring.scale_by_id(scale_id, known)[1]
            if final is not None:
                improvement = scoring.improvement(scale, intake.score, final.score)
                if scale.mcid is not None:
                    mcid = int(scoring.mcid_reached(scale, intake.score, final.score))
            if scale.mcid is not None and first_day is not None:
                recovery = _time_to_recovery(scale, first_day, scored)
        rows.append((
            episode_id, scale_id, instrument, partner_id, referral_date, clinician,
            intake.score if intake else None, intake.date if intake else None,
            final.score if final else None, final.date if final else None,
            int(carried), improvement, mcid, group, procedure,
            None if operated is None else int(operated),
            int(instrument == main and scale_id == main_scale),
            None if recovery is None else recovery[0],
            None if recovery is None else int(recovery[1]),
        ))
    return rows


def _day(text: str | None) -> date | None:
    # What SQLite's julianday() reads of an ISO date; None (unknown) for anything else.
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _time_to_recovery(scale: Scale, first_visit: date,
                     scored: Sequence[_Scored]) -> tuple[int, bool] | None:
    """(day, recovered) of one episode on one scale from its scores in date order: the days
    from the first visit to the first score after the first intake score that reaches the MCID
    over it (recovered), else to the last score after it (censored: its last known state); None
    without an intake score or a score after it. A score dated before the first visit counts
    as day 0. A discharge date without a score says nothing about recovery, so it is not used.
    """
    intake: float | None = None
    last: int | None = None
    for s in scored:
        if intake is None:
            if s.timepoint == "intake":
                intake = s.score
            continue
        if s.timepoint == "intake":
            continue
        when = _day(s.date)
        days = 0 if when is None else max(0, (when - first_visit).days)
        if scoring.mcid_reached(scale, intake, s.score):
            return days, True
        last = days
    if intake is None or last is None:
        return None
    return last, False


@dataclass(frozen=True)
class EpisodeCondition:
    """What one episode is about (``episode_conditions``)."""

    episode_id: str
    partner_id: int | None
    referral_date: str
    body_region: str
    condition_group: str
    procedure: str | None
    surgical: bool | None
    """As recorded; yes when a procedure is named; None when unknown."""
    primary_instrument: str
    primary_scale: str | None
    """The scale outcomes are counted on (None for an instrument no longer installed)."""


def episode_conditions(db: Database, episode_ids: Iterable[str] | None = None
                       ) -> dict[str, EpisodeCondition]:
    """Per episode (all when ``episode_ids`` is None): its condition group, procedure,
    surgical status and primary measure, by the rules of ``outcomes.measures.conditions``.

    Every episode is listed, with or without responses: the primary measure of one without an
    intake response is its own choice or the first of its region's list."""
    tables = conditions()
    known = catalog.instruments()
    out: dict[str, EpisodeCondition] = {}
    for chunk in _episode_chunks(db, episode_ids):
        marks = ", ".join("?" for _ in chunk)
        answered: dict[str, set[str]] = {}
        for eid, instrument in db.execute(
                "SELECT DISTINCT episode_id, instrument FROM responses WHERE timepoint = 'intake'"
                f" AND episode_id IN ({marks})", chunk):
            answered.setdefault(eid, set()).add(instrument)
        for eid, pid, when, region, diagnosis, procedure, surgical, chosen in db.execute(
                "SELECT id, partner_id, referral_date, body_region, diagnosis, procedure,"
                f" surgical, instrument FROM episodes WHERE id IN ({marks})", chunk):
            main = tables.primary_instrument(region, chosen, answered.get(eid, set()))
            scale = next(iter(known[main].scales), None) if main in known else None
            out[eid] = EpisodeCondition(eid, pid, when, region, tables.group(diagnosis, region),
                                        procedure, surgical_status(surgical, procedure), main,
                                        scale)
    return out
