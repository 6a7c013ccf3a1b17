"""Property tests: range, monotonicity, missing-item symmetry, improvement antisymmetry."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.measures.instruments import Direction, Instrument, load_instruments
from outcomes.measures.scoring import improvement, score

INSTRUMENTS = load_instruments()
ALL = sorted(INSTRUMENTS)


@st.composite
def full_answers(draw, instrument_id: str | None = None):
    inst = INSTRUMENTS[instrument_id or draw(st.sampled_from(ALL))]
    answers = [draw(st.integers(item.min, item.max)) for item in inst.items]
    return inst, answers


@settings(max_examples=300)
@given(full_answers())
def test_scores_stay_in_declared_range(case):
    inst, answers = case
    result = score(inst, answers)
    assert result.scorable
    for scale_id, value in result.scores.items():
        scale = inst.scales[scale_id]
        assert value is not None
        assert scale.score_min - 1e-9 <= value <= scale.score_max + 1e-9


@settings(max_examples=300)
@given(full_answers(), st.data())
def test_worse_answer_never_improves_the_score(case, data):
    inst, answers = case
    index = data.draw(st.integers(0, len(inst.items) - 1))
    item = inst.items[index]
    if answers[index] == item.max:
        return
    raised = list(answers)
    raised[index] += 1
    before, after = score(inst, answers), score(inst, raised)
    for scale_id, scale in inst.scales.items():
        if item.id not in scale.items:
            assert before.scores[scale_id] == after.scores[scale_id]
            continue
        b, a = before.scores[scale_id], after.scores[scale_id]
        assert b is not None and a is not None
        # Raising an answer makes the patient worse (item higher_is_worse) or better.
        got_better = improvement(scale, b, a)
        if inst.item_direction(item.id) is Direction.HIGHER_IS_WORSE:
            assert got_better <= 1e-9
        else:
            assert got_better >= -1e-9


def _equal_answers_one_missing(inst: Instrument, value: int, missing: int) -> list[int | None]:
    answers: list[int | None] = [value] * len(inst.items)
    answers[missing] = None
    return answers


@given(st.sampled_from(["odi", "ndi", "quickdash"]), st.data())
def test_which_item_is_missing_does_not_matter(instrument_id, data):
    inst = INSTRUMENTS[instrument_id]
    item = inst.items[0]
    value = data.draw(st.integers(item.min, item.max))
    i, j = (
        data.draw(st.integers(0, len(inst.items) - 1)),
        data.draw(st.integers(0, len(inst.items) - 1)),
    )
    a = score(inst, _equal_answers_one_missing(inst, value, i))
    b = score(inst, _equal_answers_one_missing(inst, value, j))
    full = score(inst, [value] * len(inst.items))
    assert a.scores == b.scores
    # With every answer equal to v, one missing item changes nothing (proration is exact).
    assert a.scores[instrument_id] is not None and full.scores[instrument_id] is not None
    assert abs(a.scores[instrument_id] - full.scores[instrument_id]) < 1e-9


SCALES = [s for inst in INSTRUMENTS.values() for s in inst.scales.values()]


@given(
    st.sampled_from(SCALES),
    st.floats(-1000, 1000, allow_nan=False),
    st.floats(-1000, 1000, allow_nan=False),
)
def test_improvement_is_antisymmetric(scale, a, b):
    assert improvement(scale, a, b) == -improvement(scale, b, a)


@given(
    st.sampled_from(SCALES),
    st.floats(-1000, 1000, allow_nan=False),
    st.floats(0.001, 1000, allow_nan=False),
)
def test_improvement_is_positive_when_the_patient_got_better(scale, intake, step):
    # Antisymmetry holds for either sign of the formula; this pins the sign: a final score on
    # the better side of the intake (lower for higher-is-worse scales) is a positive change.
    if scale.direction is Direction.HIGHER_IS_BETTER:
        better, worse = intake + step, intake - step
    else:
        better, worse = intake - step, intake + step
    assert improvement(scale, intake, better) > 0
    assert improvement(scale, intake, worse) < 0
    assert abs(improvement(scale, intake, better) - abs(better - intake)) < 1e-9
