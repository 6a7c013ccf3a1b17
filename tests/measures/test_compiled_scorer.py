"""The bulk import's compiled scorer (responses.compile_scorer) reused across a whole file.

tests/importing/test_fast.py holds one fresh scorer per answers cell to the published rules;
here one scorer per instrument scores many cells, as an import does, so its memory of scores
per set of scale sums is hit and must still give each cell its own published scores.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.measures import catalog, responses, scoring

INSTRUMENTS = sorted(catalog.instruments())


@pytest.mark.parametrize("iid", INSTRUMENTS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_one_scorer_for_many_cells_gives_each_its_published_scores(
        iid: str, data: st.DataObject) -> None:
    instrument = catalog.instruments()[iid]
    score = responses.compile_scorer(instrument)
    # Few answer values, so that different cells share their sums (the remembered path).
    cells = data.draw(st.lists(st.lists(st.sampled_from([0, 1, 2]), min_size=len(
        instrument.items), max_size=len(instrument.items)), min_size=2, max_size=25))
    for picks in cells:
        answers = [min(item.max, item.min + pick) for item, pick in zip(
            instrument.items, picks, strict=True)]
        text = ";".join(map(str, answers))
        fast = score(text)
        assert fast is not None
        expected = scoring.score(instrument, answers)
        assert fast[0] == answers
        assert repr(fast[1]) == repr(expected.scores)  # bit for bit
        made = responses.PreparedResponse("E1", instrument.id, instrument.version, "intake",
                                          date(2026, 1, 5), *fast[:4], False, fast[4])
        reference = responses.prepare(instrument, "E1", "intake", date(2026, 1, 5), answers)
        assert made.row() == reference.row()


def test_remembered_scores_are_per_set_of_sums_not_per_cell(monkeypatch: Any) -> None:
    # Two cells with the same ODI sum share one scores object; a third with another sum does
    # not; past the limit nothing more is remembered, and scores are still right.
    odi = catalog.instruments()["odi"]
    score = responses.compile_scorer(odi)
    first, second = score("1;0;0;0;0;0;0;0;0;0"), score("0;0;0;0;0;0;0;0;0;1")
    third = score("2;0;0;0;0;0;0;0;0;0")
    assert first is not None and second is not None and third is not None
    assert first[1] is second[1] and first[1] == {"odi": 2.0}
    assert third[1] == {"odi": 4.0} and third[1] is not first[1]
    assert first[4] == ("[1, 0, 0, 0, 0, 0, 0, 0, 0, 0]", '{"odi": 2.0}')
    monkeypatch.setattr(responses, "_SUMS_REMEMBERED", 0)
    fresh = responses.compile_scorer(odi)
    a, b = fresh("1;0;0;0;0;0;0;0;0;0"), fresh("0;0;0;0;0;0;0;0;0;1")
    assert a is not None and b is not None
    assert a[1] == b[1] == {"odi": 2.0} and a[1] is not b[1]


def test_prepared_response_constructor_is_the_dataclass_one() -> None:
    # Its __init__ is written out for speed: it must take every field, in order, with the
    # same default, and the instance must stay frozen, equal by value and hashable as before.
    import dataclasses
    import inspect

    fields = dataclasses.fields(responses.PreparedResponse)
    params = list(inspect.signature(responses.PreparedResponse.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in fields]
    assert [p.default for p in params] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        for f in fields]
    args: list[Any] = ["E1", "odi", "1", "intake", date(2026, 1, 5), [1], {"odi": 2.0}, True,
                       None, False]
    made = responses.PreparedResponse(*args)
    assert made == responses.PreparedResponse(*args) and made.encoded is None
    assert made.date == date(2026, 1, 5) and made.scores == {"odi": 2.0}
    assert made == responses.PreparedResponse(**{f.name: a for f, a in zip(fields, args,
                                                                             strict=False)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.reason = "x"  # type: ignore[misc]
    assert dataclasses.replace(made, timepoint="discharge").timepoint == "discharge"
