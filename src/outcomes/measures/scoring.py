"""Pure scoring functions: answers in, scores out. No I/O, no state.

Scores are kept at full precision; round only for display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from outcomes.errors import InstrumentError, InvalidAnswer
from outcomes.measures.instruments import Direction, Instrument, Scale

# Float noise must not flip an MCID decision (e.g. 0.3 * 50 = 15.000000000000002).
_EPSILON = 1e-9


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    """Instrument id."""
    version: str
    """Instrument version the answers were scored with."""
    scores: dict[str, float | None]
    """Score per scale id, full precision; None when the scale could not be scored."""
    raw: dict[str, float | None] = field(default_factory=dict)
    """Raw sum per scale id where meaningful (prorated when an item was missing)."""
    scorable: bool = True
    """True iff every scale was scored."""
    reason: str | None = None
    """Why a scale was not scored (which items are missing, which rule failed)."""
    category: str | None = None
    """NPS only: promoter, passive or detractor."""


def nps_category(score: int) -> str:
    """Net Promoter category: 9-10 promoter, 7-8 passive, 0-6 detractor."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise InvalidAnswer(
            f"The recommendation answer must be a whole number from 0 to 10; got {score!r}."
        )
    from outcomes.measures.nps import category

    return category(score)


def _validate(instrument: Instrument, answers: Sequence[int | None]) -> list[int | None]:
    n_items = len(instrument.items)
    low = instrument.min_answers if instrument.min_answers is not None else n_items
    if isinstance(answers, (str, bytes)) or not low <= len(answers) <= n_items:
        expected = f"{n_items}" if low == n_items else f"{low} to {n_items}"
        got = len(answers) if not isinstance(answers, (str, bytes)) else "text"
        raise InvalidAnswer(f"{instrument.name} needs {expected} answers, one per item; got {got}.")
    checked: list[int | None] = []
    for number, (item, answer) in enumerate(zip(instrument.items, answers, strict=False), start=1):
        if answer is not None and (
            isinstance(answer, bool)
            or not isinstance(answer, int)
            or not item.min <= answer <= item.max
        ):
            raise InvalidAnswer(
                f"Item {number} ({item.label}) must be a whole number "
                f"from {item.min} to {item.max}; "
                f"got {answer!r}."
            )
        checked.append(answer)
    # Items not presented (variable-length instruments) count as missing.
    return checked + [None] * (n_items - len(checked))


def _score_scale(
    instrument: Instrument, scale: Scale, by_id: Mapping[str, int | None]
) -> tuple[float | None, float | None, str | None]:
    """Return (score, raw, reason) for one scale."""
    items = [instrument.item(i) for i in scale.items]
    answered = [(item, by_id[item.id]) for item in items if by_id[item.id] is not None]
    missing = [item for item in items if by_id[item.id] is None]
    needed = scale.missing.required(len(items))
    if len(answered) < needed:
        names = ", ".join(f"{instrument.item_number(i.id)} ({i.label})" for i in missing)
        return (
            None,
            None,
            f"{scale.name} not scored: {len(missing)} of {len(items)} items missing "
            f"(item {names}); "
            f"at least {needed} must be answered.",
        )
    values = [item.scored_value(a) for item, a in answered if a is not None]
    total = sum(values)
    n = len(values)
    if scale.method == "percent_of_max":
        span = sum(item.max - item.min for item, _ in answered)
        offset = sum(item.min for item, _ in answered)
        score = 100.0 * (total - offset) / span
        full = sum(item.max - item.min for item in items)
        # Prorated raw: the average of the answered items stands in for a missing one.
        raw = score * full / 100.0 + sum(item.min for item in items)
        return score, raw, None
    if scale.method == "sum":
        return float(total), float(total), None
    if scale.method == "dash":
        return (total / n - 1.0) * 25.0, float(total), None
    if scale.method == "mean":
        return total / n, float(total), None
    if scale.method == "lookup":
        assert scale.lookup is not None
        return scale.lookup[total], float(total), None
    # single
    return float(total), float(total), None


def score(instrument: Instrument, answers: Sequence[int | None]) -> ScoreResult:
    """Score answers (None = missing) by the instrument's published rules."""
    checked = _validate(instrument, answers)
    by_id = {item.id: a for item, a in zip(instrument.items, checked, strict=True)}
    scores: dict[str, float | None] = {}
    raws: dict[str, float | None] = {}
    reasons: list[str] = []
    for scale_id, scale in instrument.scales.items():
        value, raw, why = _score_scale(instrument, scale, by_id)
        scores[scale_id] = value
        raws[scale_id] = raw
        if why:
            reasons.append(why)
    category = None
    if instrument.id == "nps" and scores.get("nps") is not None:
        category = nps_category(int(scores["nps"] or 0))
    return ScoreResult(
        instrument=instrument.id,
        version=instrument.version,
        scores=scores,
        raw=raws,
        scorable=not reasons,
        reason=" ".join(reasons) or None,
        category=category,
    )


def improvement(scale: Scale, intake: float, final: float) -> float:
    """Change from intake to final, signed so that positive always means the patient got better."""
    change = final - intake
    return change if scale.direction is Direction.HIGHER_IS_BETTER else -change


def mcid_reached(scale: Scale, intake: float, final: float) -> bool:
    """Whether the improvement reaches the scale's MCID.

    "points": improvement >= value. "percent": improvement >= value% of the intake score
    (for higher-is-worse scales such as the ODI, 30% means the score fell by at least 30% of
    its intake value). With an intake of 0 a relative change is undefined, so a percent MCID
    is never reached. A scale without a published MCID never reaches one.
    """
    if scale.mcid is None:
        return False
    return gain_reaches_mcid(scale.mcid.unit, scale.mcid.value, intake,
                             improvement(scale, intake, final))


def gain_reaches_mcid(unit: str, value: float, intake: float, gain: float) -> bool:
    """:func:`mcid_reached`'s comparison, for an MCID of ``value`` in ``unit`` ("points" or
    "percent") and the signed ``gain`` from :func:`improvement`: the outcome summary applies it
    per score of a whole import with each scale's rule taken apart once."""
    if unit == "points":
        return gain >= value - _EPSILON
    if intake == 0:
        return False
    return gain > 0 and gain >= value * abs(intake) / 100.0 - _EPSILON


def scale_by_id(scale_id: str, instruments: Mapping[str, Instrument]) -> tuple[Instrument, Scale]:
    """The instrument and scale for a scale id (scale ids are unique across instruments)."""
    for instrument in instruments.values():
        if scale_id in instrument.scales:
            return instrument, instrument.scales[scale_id]
    known = sorted(s for inst in instruments.values() for s in inst.scales)
    raise InstrumentError(f"Unknown scale {scale_id!r}; valid scale ids are: {', '.join(known)}.")


__all__ = ["ScoreResult", "improvement", "mcid_reached", "nps_category", "scale_by_id", "score"]
