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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.measures import catalog, scoring
from outcomes.measures.conditions import conditions, surgical_status
from outcomes.measures.instruments import Direction, Scale
from outcomes.measures.scoring import gain_reaches_mcid

_CHUNK = 500

EPISODE_FIELDS = ("id, partner_id, referral_date, clinician, status, discharge_date,"
                  " body_region, diagnosis, procedure, surgical, instrument, first_visit_date")
"""The columns of ``episodes`` that :func:`summarise` reads, in its order."""


# One scored response on one scale: (timepoint, date, response id, score). A plain tuple: a
# big import builds one per response and scale, and a dataclass costs three times as much.
_Scored = tuple[str, str, int, float]

# Entries each memo keeps at most: enough for every distinct diagnosis, date and scores text of
# a clinic's history in the common case, and a bound on memory when a file is unusual.
_MEMO_LIMIT = 20_000


class Memo:
    """Look-ups that are the same for every episode of one refresh (or of one import, which
    runs many refreshes with the same catalog and condition tables): scale by id, condition
    group by (diagnosis, region), each scores text decoded, each date parsed. Pure caches: a
    result is the same with or without them."""

    def __init__(self, scales: dict[str, Any] | None = None) -> None:
        self.known = catalog.instruments()
        self.tables = conditions()
        self.scales: dict[str, Any] = {} if scales is None else scales
        self.groups: dict[tuple[str | None, str | None], str] = {}
        self.decoded: dict[str, list[tuple[str, float]]] = {}
        self.days: dict[str, date | None] = {}
        self.main_scales: dict[str, str | None] = {}
        self.rules: dict[str, _Rule] = {}

    def group(self, diagnosis: str | None, region: str | None) -> str:
        key = (diagnosis, region)
        found = self.groups.get(key)
        if found is None:
            found = self.tables.group(diagnosis, region)
            if len(self.groups) < _MEMO_LIMIT:
                self.groups[key] = found
        return found

    def decode(self, scores_json: str) -> list[tuple[str, float]]:
        """The scale scores stored in a response's ``scores`` JSON, unanswered scales left
        out. The list is shared between callers, which only read it."""
        found = self.decoded.get(scores_json)
        if found is None:
            found = [(scale_id, float(value))
                     for scale_id, value in json.loads(scores_json).items() if value is not None]
            if len(self.decoded) < _MEMO_LIMIT:
                self.decoded[scores_json] = found
        return found

    def day(self, text: str | None) -> date | None:
        if text is None:
            return None
        try:
            return self.days[text]
        except KeyError:
            found = _day(text)
            if len(self.days) < _MEMO_LIMIT:
                self.days[text] = found
            return found

    def scale(self, scale_id: str) -> Scale:
        found = self.scales.get(scale_id)
        if found is None:
            found = self.scales[scale_id] = scoring.scale_by_id(scale_id, self.known)[1]
        return found

    def rule(self, scale_id: str) -> _Rule:
        """The scale's direction and MCID as :func:`_rule` gives them, once per scale."""
        found = self.rules.get(scale_id)
        if found is None:
            found = self.rules[scale_id] = _rule(self.scale(scale_id))
        return found

    def main_scale(self, instrument: str) -> str | None:
        try:
            return self.main_scales[instrument]
        except KeyError:
            known = self.known
            found = next(iter(known[instrument].scales), None) if instrument in known else None
            self.main_scales[instrument] = found
            return found


def refresh(db: Database, episode_ids: Iterable[str] | None = None, *,
            responses: Mapping[str, list[tuple[str, str, str, int, str]]] | None = None,
            memo: Memo | None = None) -> int:
    """Recompute the summary rows of the given episodes (all when None); return rows written.

    ``responses`` is the caller's own copy of some episodes' stored responses, as
    :func:`summarise` takes them (ordered by date, then id): the bulk import builds it from the
    chunk it has just written plus what was stored before, so those episodes' responses are not
    read back and their new scores not decoded twice. Episodes it lacks are read from the
    database. ``memo``: look-ups kept across the refreshes of one import (a new one by
    default). Caller holds the transaction, so the summary always moves together with the data.
    """
    written = 0
    memo = Memo() if memo is None else memo
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
                                       memo=memo)]
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
              scales: dict[str, Any] | None = None, *,
              memo: Memo | None = None) -> list[tuple[Any, ...]]:
    """Summary rows for one episode from its responses (ordered by date, then id).

    ``scales`` is a cache of scale lookups (scale id -> Scale) shared across the episodes of
    one refresh; ``memo`` holds that and the other look-ups (:class:`Memo`)."""
    if memo is None:
        memo = Memo(scales)
    (episode_id, partner_id, referral_date, clinician, status, discharge_date, region,
     diagnosis, procedure, surgical, chosen, first_visit) = episode
    # The memo's dicts read inline (its methods fill them on a miss): one summarise per
    # episode of an import, so each call saved is 229,000 calls on the benchmark file.
    try:
        first_day = memo.days[first_visit]
    except KeyError:
        first_day = memo.day(first_visit)
    group = memo.groups.get((diagnosis, region)) or memo.group(diagnosis, region)
    operated = surgical_status(surgical, procedure)
    surgical_flag = None if operated is None else int(operated)
    discharged = status == "discharged" or discharge_date is not None
    by_scale: dict[tuple[str, str], list[_Scored]] = {}
    # Instruments with an intake score on some scale (what the primary measure chooses among).
    answered: set[str] = set()
    decoded, decode = memo.decoded.get, memo.decode
    for instrument, timepoint, when, response_id, scores_json in responses:
        pairs = decoded(scores_json)
        if pairs is None:
            pairs = decode(scores_json)
        if not pairs:
            continue
        if timepoint == "intake":
            answered.add(instrument)
        for scale_id, value in pairs:
            key = (instrument, scale_id)
            listed = by_scale.get(key)
            if listed is None:
                listed = by_scale[key] = []
            listed.append((timepoint, when, response_id, value))
    known = memo.known
    main = memo.tables.primary_instrument(region, chosen, answered)
    main_scale = memo.main_scale(main)
    rows = []
    rules = memo.rules
    for (instrument, scale_id), scored in (sorted(by_scale.items()) if len(by_scale) > 1
                                           else by_scale.items()):
        # One pass: the first intake, the last discharge and the last progress score.
        intake = discharge = progress = None
        for s in scored:
            timepoint = s[0]
            if timepoint == "intake":
                if intake is None:
                    intake = s
            elif timepoint == "discharge":
                discharge = s
            elif timepoint == "progress":
                progress = s
        final, carried = discharge, 0
        if final is None and discharged and progress is not None:
            final, carried = progress, 1
        improvement = mcid = recovery_days = recovered = None
        if intake is not None and instrument in known:
            higher, unit, value = rules.get(scale_id) or memo.rule(scale_id)
            start = intake[3]
            if final is not None:
                # scoring.improvement's sign, then mcid_reached's own comparison.
                change = final[3] - start
                improvement = change if higher else -change
                if unit is not None:
                    mcid = int(gain_reaches_mcid(unit, value, start, improvement))
            if unit is not None and first_day is not None:
                recovery = _recovery(higher, unit, value, first_day, scored, memo.day)
                if recovery is not None:
                    recovery_days, recovered = recovery[0], int(recovery[1])
        rows.append((
            episode_id, scale_id, instrument, partner_id, referral_date, clinician,
            intake[3] if intake else None, intake[1] if intake else None,
            final[3] if final else None, final[1] if final else None,
            carried, improvement, mcid, group, procedure, surgical_flag,
            int(instrument == main and scale_id == main_scale), recovery_days, recovered,
        ))
    return rows


# A scale's rule as the summary applies it: (higher is better, MCID unit or None when the
# scale has no published MCID, MCID value).
_Rule = tuple[bool, str | None, float]


def _rule(scale: Scale) -> _Rule:
    higher = scale.direction is Direction.HIGHER_IS_BETTER
    if scale.mcid is None:
        return higher, None, 0.0
    return higher, scale.mcid.unit, scale.mcid.value


def _recovery(higher: bool, unit: str, value: float, first_visit: date,
              scored: Sequence[_Scored], day: Callable[[str], date | None]
              ) -> tuple[int, bool] | None:
    """(day, recovered) of one episode on one scale from its scores in date order: the days
    from the first visit to the first score after the first intake score that reaches the MCID
    over it (recovered), else to the last score after it (censored: its last known state); None
    without an intake score or a score after it. A score dated before the first visit counts
    as day 0. A discharge date without a score says nothing about recovery, so it is not used.
    """
    intake: float | None = None
    last: int | None = None
    for timepoint, text, _rid, score in scored:
        if intake is None:
            if timepoint == "intake":
                intake = score
            continue
        if timepoint == "intake":
            continue
        when = day(text)
        days = 0 if when is None else max(0, (when - first_visit).days)
        change = score - intake
        if gain_reaches_mcid(unit, value, intake, change if higher else -change):
            return days, True
        last = days
    if intake is None or last is None:
        return None
    return last, False


def _day(text: str | None) -> date | None:
    # What SQLite's julianday() reads of an ISO date; None (unknown) for anything else.
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


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
