"""Outcome-measure responses: raw answers, the score computed from them, and the version used."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.errors import ValidationError
from outcomes.measures import catalog, scoring
from outcomes.measures import summary as outcome_summary
from outcomes.measures.instruments import Instrument
from outcomes.network.episodes import get_episode
from outcomes.store import audit
from outcomes.store.database import transaction

TIMEPOINTS = ("intake", "progress", "discharge", "follow_up")


@dataclass(frozen=True)
class PreparedResponse:
    """A response validated and scored, ready to write."""

    episode_id: str
    instrument: str
    version: str
    timepoint: str
    date: date
    answers: list[int | None] | None
    scores: dict[str, float | None]
    scorable: bool
    reason: str | None
    score_only: bool

    def row(self) -> tuple[Any, ...]:
        return (
            self.episode_id, self.instrument, self.version, self.timepoint,
            self.date.isoformat(),
            None if self.answers is None else json.dumps(self.answers),
            json.dumps(self.scores), int(self.scorable), self.reason, int(self.score_only),
        )


# Tokens that need no parsing: what parse_answers would return for them.
_UNKNOWN = object()
_PLAIN_TOKENS: dict[str, int | None] = {str(n): n for n in range(0, 101)} | {"": None, "-": None}
# No item has answers this long; longer digit strings are refused as typos (and int() refuses
# more than 4,300 digits with an exception of its own).
_MAX_DIGITS = 9


def parse_answers(tokens: Sequence[str]) -> list[int | None]:
    """Answers as typed: integers, with ``-`` or an empty place for a missing item.

    Anything else is refused here (a typo is not a missing item)."""
    answers: list[int | None] = []
    for position, token in enumerate(tokens, start=1):
        known = _PLAIN_TOKENS.get(token, _UNKNOWN)
        if known is not _UNKNOWN:  # the common case ("0" to "100", "-", ""), unparsed
            answers.append(known)  # type: ignore[arg-type]
            continue
        text = token.strip()
        if text in ("", "-"):
            answers.append(None)
        elif text.lstrip("-").isdigit() and text.isascii() and len(text) <= _MAX_DIGITS:
            answers.append(int(text))
        else:
            raise ValidationError(
                f"answer {position} is {token!r}; give a whole number, or - for a skipped item."
            )
    return answers


def prepare(
    instrument: Instrument,
    episode_id: str,
    timepoint: str,
    when: date,
    answers: Sequence[int | None] | None = None,
    total: float | None = None,
) -> PreparedResponse:
    """Score a response (or check a bare total) without writing anything."""
    if timepoint not in TIMEPOINTS:
        raise ValidationError(f"timepoint {timepoint!r} must be one of {', '.join(TIMEPOINTS)}.")
    if answers is not None:
        result = scoring.score(instrument, list(answers))
        return PreparedResponse(
            episode_id, instrument.id, instrument.version, timepoint, when, list(answers),
            dict(result.scores), result.scorable, result.reason, False,
        )
    if total is None:
        raise ValidationError("give either the answers or a total score.")
    scales = list(instrument.scales.items())
    if len(scales) != 1:
        raise ValidationError(
            f"{instrument.id} has {len(scales)} scales; a single total cannot be stored, "
            "give the item answers."
        )
    scale_id, scale = scales[0]
    low, high = scale.score_min, scale.score_max
    if not low <= total <= high:
        raise ValidationError(
            f"score {total:g} is outside the {instrument.id} range {low:g}-{high:g}."
        )
    return PreparedResponse(
        episode_id, instrument.id, instrument.version, timepoint, when, None,
        {scale_id: float(total)}, True, None, True,
    )


# The result of scoring one answers cell: (answers, scores, scorable, reason).
Scored = tuple[list[int | None], dict[str, float | None], bool, str | None]


def compile_scorer(instrument: Instrument) -> Callable[[str], Scored | None]:
    """A scorer for one instrument, built once per import: items' ranges, recodings, scale
    positions and lookup tables turned into lists and dicts.

    It takes an answers cell as written (``3;2;4``) and returns what ``parse_answers`` and
    ``prepare`` would store, for the common case only: every item answered with a plain
    number in range. For anything else it returns None, and the caller takes the general path
    (which also words the error); so the two can only agree."""
    items = instrument.items
    n_items = len(items)  # fewer answers (PSFS) go the general way: the length is checked
    bounds = [(item.min, item.max) for item in items]
    position = {item.id: k for k, item in enumerate(items)}
    plans: list[tuple[str, str, list[int], list[dict[int, int] | None], Any]] = []
    for scale_id, scale in instrument.scales.items():
        members = [items[position[i]] for i in scale.items]
        if scale.missing.required(len(members)) > len(members):
            return lambda text: None  # never scorable: let the general path say why
        extra: Any = None
        if scale.method == "percent_of_max":
            extra = (sum(m.min for m in members), sum(m.max - m.min for m in members))
        elif scale.method == "lookup":
            extra = scale.lookup
        plans.append((scale_id, scale.method, [position[i] for i in scale.items],
                      [m.recode for m in members], extra))
    plain = _PLAIN_TOKENS

    def score(text: str) -> Scored | None:
        tokens = text.split(";")
        if len(tokens) != n_items:
            return None
        answers: list[int | None] = []
        for token, (low, high) in zip(tokens, bounds, strict=True):
            value = plain.get(token)
            if value is None or not low <= value <= high:
                return None
            answers.append(value)
        scores: dict[str, float | None] = {}
        # The same arithmetic, in the same order, as scoring._score_scale with every item
        # answered, so the floats are bit for bit the same.
        for scale_id, method, places, recodes, extra in plans:
            total = 0
            for place, recode in zip(places, recodes, strict=True):
                answer = answers[place]
                assert answer is not None
                total += recode[answer] if recode is not None else answer
            n = len(places)
            if method == "percent_of_max":
                offset, span = extra
                scores[scale_id] = 100.0 * (total - offset) / span
            elif method == "dash":
                scores[scale_id] = (total / n - 1.0) * 25.0
            elif method == "mean":
                scores[scale_id] = total / n
            elif method == "lookup":
                scores[scale_id] = extra[total]
            else:  # sum, single
                scores[scale_id] = float(total)
        return answers, scores, True, None

    return score


def compile_total(instrument: Instrument) -> Callable[[str], dict[str, float | None] | None]:
    """For a bare total: the scores ``prepare(total=...)`` would store, or None (general path)."""
    if len(instrument.scales) != 1:
        return lambda text: None
    (scale_id, scale), = instrument.scales.items()
    low, high = scale.score_min, scale.score_max

    def total(text: str) -> dict[str, float | None] | None:
        try:
            value = float(text)
        except ValueError:
            return None
        if not low <= value <= high:
            return None
        return {scale_id: float(value)}

    return total


INSERT_SQL = (
    "INSERT INTO responses (episode_id, instrument, instrument_version, timepoint, date, answers,"
    " scores, scorable, reason, score_only, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT (episode_id, instrument, timepoint, date) DO UPDATE SET"
    " instrument_version = excluded.instrument_version, answers = excluded.answers,"
    " scores = excluded.scores, scorable = excluded.scorable, reason = excluded.reason,"
    " score_only = excluded.score_only"
    " WHERE responses.answers IS NOT excluded.answers OR responses.scores IS NOT excluded.scores"
)


def write(db: Database, prepared: Sequence[PreparedResponse]) -> None:
    """Write prepared responses and refresh the outcome summary. Caller holds the transaction."""
    now = now_iso()
    db.conn.executemany(INSERT_SQL, [(*p.row(), now) for p in prepared])
    outcome_summary.refresh(db, {p.episode_id for p in prepared})


def add_response(
    db: Database,
    episode_id: str,
    instrument_id: str,
    timepoint: str,
    answers: Sequence[int | None] | None,
    when: date,
    total: float | None = None,
) -> PreparedResponse:
    """Validate, score and store one response in its own transaction."""
    from outcomes.measures.instruments import get_instrument

    instrument = get_instrument(instrument_id, catalog.instruments())
    get_episode(db, episode_id)
    prepared = prepare(instrument, episode_id, timepoint, when, answers, total)
    with transaction(db):
        write(db, [prepared])
        audit.log(db, "add", "responses", episode_id=episode_id, instrument=instrument.id,
                  timepoint=timepoint, date=when.isoformat())
    return prepared
