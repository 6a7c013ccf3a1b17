"""Outcome-measure responses: raw answers, the score computed from them, and the version used."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.errors import OutcomesError, ValidationError
from outcomes.measures import catalog, scoring
from outcomes.measures import summary as outcome_summary
from outcomes.measures.instruments import Instrument
from outcomes.network.episodes import get_episode
from outcomes.store import audit
from outcomes.store.database import transaction

TIMEPOINTS = ("intake", "progress", "discharge", "follow_up")

_Date = date  # inside PreparedResponse, ``date`` names the field


@dataclass(frozen=True, init=False)
class PreparedResponse:
    """A response validated and scored, ready to write.

    The constructor is written out: a bulk import makes one per row, and a frozen
    dataclass's own sets each field through ``object.__setattr__`` (1.15 us a row against
    0.57 us). A test holds its parameters to the fields."""

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
    encoded: tuple[str | None, str] | None = None
    """The answers and scores as JSON when already known (the bulk import's cache)."""

    def __init__(self, episode_id: str, instrument: str, version: str, timepoint: str,
                 date: _Date, answers: list[int | None] | None,
                 scores: dict[str, float | None], scorable: bool, reason: str | None,
                 score_only: bool, encoded: tuple[str | None, str] | None = None) -> None:
        self.__dict__.update(
            episode_id=episode_id, instrument=instrument, version=version,
            timepoint=timepoint, date=date, answers=answers, scores=scores,
            scorable=scorable, reason=reason, score_only=score_only, encoded=encoded)

    def row(self) -> tuple[Any, ...]:
        if self.encoded is not None:
            answers, scores = self.encoded
        else:
            answers = None if self.answers is None else json.dumps(self.answers)
            scores = json.dumps(self.scores)
        return (
            self.episode_id, self.instrument, self.version, self.timepoint,
            self.date.isoformat(), answers, scores, int(self.scorable), self.reason,
            int(self.score_only),
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


# The result of scoring one answers cell: (answers, scores, scorable, reason, (answers as
# JSON, scores as JSON)).
Scored = tuple[list[int | None], dict[str, float | None], bool, str | None, tuple[str, str]]


def compile_scorer(instrument: Instrument) -> Callable[[str], Scored | None]:
    """A scorer for one instrument, built once per import: each item's valid tokens as a dict
    (token -> answer), each scale's recoding as dicts and its items as positions, lookup tables
    as dicts.

    It takes an answers cell as written (``3;2;4``) and returns what ``parse_answers`` and
    ``prepare`` would store, for the common case only: every item answered with a plain
    number in range. For anything else it returns None, and the caller takes the general path
    (which also words the error); so the two can only agree."""
    items = instrument.items
    n_items = len(items)  # fewer answers (PSFS) go the general way: the length is checked
    # str(n) -> n for the answers each item accepts; any other token (" 3", "03", "-", "")
    # is not found and sends the row the general way.
    valid = [{str(a): a for a in range(item.min, item.max + 1)} for item in items]
    position = {item.id: k for k, item in enumerate(items)}
    plans: list[tuple[str, str, int, Any]] = []
    totals: list[Callable[[list[int]], int]] = []
    for scale_id, scale in instrument.scales.items():
        members = [items[position[i]] for i in scale.items]
        if scale.missing.required(len(members)) > len(members):
            return lambda text: None  # never scorable: let the general path say why
        extra: Any = None
        if scale.method == "percent_of_max":
            extra = (sum(m.min for m in members), sum(m.max - m.min for m in members))
        elif scale.method == "lookup":
            extra = scale.lookup
        places = [position[i] for i in scale.items]
        # Which answers the scale sums: all of them in order (the common case) or a subset.
        pick = None if places == list(range(n_items)) else operator.itemgetter(*places)
        recodes = None
        if any(m.recode is not None for m in members):
            recodes = [m.recode if m.recode is not None else
                       {a: a for a in range(m.min, m.max + 1)} for m in members]
        plans.append((scale_id, scale.method, len(places), extra))
        totals.append(_total_of(pick, recodes, len(places)))

    def scored(sums: tuple[int, ...]) -> tuple[dict[str, float | None], str]:
        # The same arithmetic, in the same order, as scoring._score_scale with every item
        # answered (integer sums, then one float operation), so the floats are the same.
        scores: dict[str, float | None] = {}
        for (scale_id, method, n, extra), total in zip(plans, sums, strict=True):
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
        return scores, json.dumps(scores)

    # The scores depend on the answers only through each scale's integer sum: the scores and
    # their JSON are made once per distinct set of sums (an ODI has 51) and shared by the
    # records, which never change them.
    by_sums: dict[Any, tuple[dict[str, float | None], str]] = {}
    lookup = dict.get
    single = totals[0] if len(totals) == 1 else None

    def score(text: str) -> Scored | None:
        tokens = text.split(";")
        if len(tokens) != n_items:
            return None
        answers: list[Any] = list(map(lookup, valid, tokens))
        if None in answers:
            return None
        sums: Any = single(answers) if single is not None else \
            tuple([total(answers) for total in totals])
        found = by_sums.get(sums)
        if found is None:
            found = scored((sums,) if single is not None else sums)
            if len(by_sums) < _SUMS_REMEMBERED:
                by_sums[sums] = found
        # Every token is str(answer) of a plain integer: the list's JSON is the tokens joined.
        return answers, found[0], True, None, ("[" + ", ".join(tokens) + "]", found[1])

    return score


# Distinct sets of scale sums remembered per instrument (a single scale has at most a few
# hundred; several scales multiply).
_SUMS_REMEMBERED = 10_000


def _total_of(pick: Any, recodes: list[dict[int, int]] | None, n: int
              ) -> Callable[[list[int]], int]:
    """One scale's integer sum of the answers: all of them, or the ones ``pick`` chooses,
    recoded when ``recodes`` says so."""
    if pick is None:
        if recodes is None:
            return sum
        return lambda answers: sum(map(dict.__getitem__, recodes, answers))
    if n == 1:
        if recodes is None:
            return lambda answers: sum((pick(answers),))
        return lambda answers: sum(map(dict.__getitem__, recodes, (pick(answers),)))
    if recodes is None:
        return lambda answers: sum(pick(answers))
    return lambda answers: sum(map(dict.__getitem__, recodes, pick(answers)))


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


ONE_PER_EPISODE = ("intake", "discharge")
"""Timepoints an episode has once per instrument; progress and follow-up repeat (once a day)."""


class ResponseExists(OutcomesError):
    """The timepoint already has a stored response; nothing was changed.

    Storing the new one needs ``replace=True`` (``--replace`` on the command line, a
    confirmation in the dashboard) or an amendment with its reason (``amend=``, ``--amend``);
    the replaced values are kept in the audit log."""

    def __init__(self, existing: list[dict[str, Any]], instrument: str, timepoint: str) -> None:
        self.existing = existing
        first = existing[0]
        scores = ", ".join(f"{k} {v:.1f}" for k, v in json.loads(first["scores"]).items()
                           if v is not None) or "not scorable"
        super().__init__(
            f"Episode {first['episode_id']} already has a response for {instrument} at "
            f"{timepoint}, dated {first['date']} ({scores}). Nothing was changed; replace it "
            "(a slip caught at once) or amend it with the reason, to store the new answers (the "
            "old ones stay in the audit log).")


@dataclass(frozen=True)
class ResponseSaved:
    response: PreparedResponse
    replaced: int
    """How many stored responses the new one replaced (0 or 1, rarely more)."""
    amended: bool = False
    """The replacement is an amendment: the row carries when and why."""

    def message(self) -> str:
        r = self.response
        shown = ", ".join(f"{k} {v:.1f}" if v is not None else f"{k} not scorable"
                          for k, v in r.scores.items())
        verb = "Amended" if self.amended else "Replaced" if self.replaced else "Saved"
        return f"{verb} {r.instrument} {r.timepoint} for {r.episode_id}: {shown}."


def existing_responses(db: Database, episode_id: str, instrument_id: str, timepoint: str,
                       when: date) -> list[dict[str, Any]]:
    """The stored responses a new one at this timepoint would collide with."""
    sql = ("SELECT id, episode_id, instrument, timepoint, date, answers, scores FROM responses"
           " WHERE episode_id = ? AND instrument = ? AND timepoint = ?")
    params: list[Any] = [episode_id, instrument_id, timepoint]
    if timepoint not in ONE_PER_EPISODE:
        sql += " AND date = ?"
        params.append(when.isoformat())
    cursor = db.execute(sql + " ORDER BY date, id", params)
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]


def save_response(
    db: Database,
    episode_id: str,
    instrument_id: str,
    timepoint: str,
    answers: Sequence[int | None] | None,
    when: date,
    *,
    total: float | None = None,
    replace: bool = False,
    amend: str | None = None,
) -> ResponseSaved:
    """Validate, score and store one response in its own transaction.

    A stored response is never replaced silently: when the episode already has this
    instrument's intake or discharge (or the same progress/follow-up date), this raises
    :class:`ResponseExists` unless ``replace``; then the old row goes and its values are written
    to the audit log beside the new ones."""
    from outcomes.measures.instruments import get_instrument
    from outcomes.vocab import TIMEPOINTS as TIMEPOINT_WORDS

    instrument = get_instrument(instrument_id, catalog.instruments())
    timepoint = TIMEPOINT_WORDS.normalize(timepoint)
    get_episode(db, episode_id)
    prepared = prepare(instrument, episode_id, timepoint, when, answers, total)
    reason = None if amend is None else amendment_reason(amend)
    with transaction(db):
        old = existing_responses(db, episode_id, instrument.id, timepoint, when)
        if old and not replace and reason is None:
            raise ResponseExists(old, instrument.id, timepoint)
        if reason is not None and not old:
            from outcomes.errors import ValidationError

            raise ValidationError(f"Episode {episode_id} has no {instrument.id} {timepoint} "
                                  "response to amend; save it as a new one.", field="amend")
        if old:
            db.conn.executemany("DELETE FROM responses WHERE id = ?", [(r["id"],) for r in old])
        write(db, [prepared])
        if reason is not None:
            db.execute("UPDATE responses SET amended_at = ?, amendment_reason = ?"
                       " WHERE episode_id = ? AND instrument = ? AND timepoint = ? AND date = ?",
                       [now_iso(), reason, episode_id, instrument.id, timepoint,
                        when.isoformat()])
        action = "amend" if reason is not None else "replace" if old else "add"
        audit.log(db, action, "responses", episode_id=episode_id, reason=reason,
                  instrument=instrument.id, timepoint=timepoint, date=when.isoformat(),
                  answers=list(prepared.answers) if prepared.answers is not None else None,
                  scores=prepared.scores,
                  old=[{"date": r["date"], "answers": json.loads(r["answers"] or "null"),
                        "scores": json.loads(r["scores"])} for r in old] or None)
    return ResponseSaved(prepared, len(old), amended=reason is not None)


def amendment_reason(text: str) -> str:
    """The reason an amendment needs: one line of plain text, up to ``REASON_MAX``."""
    from outcomes.errors import ValidationError
    from outcomes.models import REASON_MAX
    from outcomes.text import find_control

    reason = " ".join(str(text).split())
    if not reason:
        raise ValidationError("say why the response is amended (e.g. 'patient corrected item "
                              "4 on review').", field="amend")
    if len(reason) > REASON_MAX or find_control(reason) is not None:
        raise ValidationError(f"the reason for an amendment is one line of plain text, up to "
                              f"{REASON_MAX} characters.", field="amend")
    return reason


def add_response(
    db: Database,
    episode_id: str,
    instrument_id: str,
    timepoint: str,
    answers: Sequence[int | None] | None,
    when: date,
    total: float | None = None,
) -> PreparedResponse:
    """Store one new response (refused when the timepoint already has one)."""
    return save_response(db, episode_id, instrument_id, timepoint, answers, when,
                         total=total).response
