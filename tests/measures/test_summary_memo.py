"""summary.summarise with its look-ups memoised (issue 14) gives the rows the plain rules give.

The reference below is the summary as it was written before the memo (a dataclass per score,
every look-up made afresh, the JSON decoded per response): generated episodes and responses go
through both, one memo shared across all of them as an import shares it across chunks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.measures import catalog, scoring, summary
from outcomes.measures.conditions import conditions, surgical_status


@dataclass(frozen=True)
class _Ref:
    timepoint: str
    date: str
    id: int
    score: float


def _ref_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _ref_recovery(scale: Any, first: date, scored: list[_Ref]) -> tuple[int, bool] | None:
    intake: float | None = None
    last: int | None = None
    for s in scored:
        if intake is None:
            if s.timepoint == "intake":
                intake = s.score
            continue
        if s.timepoint == "intake":
            continue
        when = _ref_day(s.date)
        days = 0 if when is None else max(0, (when - first).days)
        if scoring.mcid_reached(scale, intake, s.score):
            return days, True
        last = days
    if intake is None or last is None:
        return None
    return last, False


def reference(episode: tuple[Any, ...], responses: list[tuple[str, str, str, int, str]]
              ) -> list[tuple[Any, ...]]:
    (episode_id, partner_id, referral_date, clinician, status, discharge_date, region,
     diagnosis, procedure, surgical, chosen, first_visit) = episode
    first_day = _ref_day(first_visit)
    tables = conditions()
    group = tables.group(diagnosis, region)
    operated = surgical_status(surgical, procedure)
    discharged = status == "discharged" or discharge_date is not None
    by_scale: dict[tuple[str, str], list[_Ref]] = {}
    for instrument, timepoint, when, rid, scores_json in responses:
        for scale_id, value in json.loads(scores_json).items():
            if value is not None:
                by_scale.setdefault((instrument, scale_id), []).append(
                    _Ref(timepoint, when, rid, float(value)))
    known = catalog.instruments()
    answered = {i for (i, _s), scored in by_scale.items()
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
        recovery = None
        if intake is not None and instrument in known:
            scale = scoring.scale_by_id(scale_id, known)[1]
            if final is not None:
                improvement = scoring.improvement(scale, intake.score, final.score)
                if scale.mcid is not None:
                    mcid = int(scoring.mcid_reached(scale, intake.score, final.score))
            if scale.mcid is not None and first_day is not None:
                recovery = _ref_recovery(scale, first_day, scored)
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


# A few instruments of each shape: single scale (higher and lower is better, points and percent
# MCIDs), two scales (promis10), and one the catalog does not know (a removed survey).
_SCALES = {"odi": ["odi"], "nprs": ["nprs"], "lefs": ["lefs"], "koos_jr": ["koos_jr"],
           "promis10": ["gph", "gmh"], "gone": ["gone"]}
_dates = st.one_of(st.dates(date(2024, 1, 1), date(2024, 3, 1)).map(date.isoformat),
                   st.sampled_from(["", "2024-02-30", "02/03/2024", "2024-01-05T10:00"]))
_score = st.one_of(st.none(), st.integers(0, 100).map(float),
                   st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 3)))


@st.composite
def episodes(draw: Any, n: int) -> tuple[tuple[Any, ...], list[tuple[str, str, str, int, str]]]:
    region = draw(st.sampled_from(["low back", "neck", "knee", "hip", "shoulder", "other", None]))
    status = draw(st.sampled_from(["received", "discharged", "in_care"]))
    episode = (f"E{n}", draw(st.one_of(st.none(), st.integers(1, 3))), "2024-01-01", "A. B",
               status, draw(st.one_of(st.none(), st.just("2024-03-01"))), region,
               draw(st.sampled_from([None, "M54.5", "m545", "S83.2", "Z96.651", "R52", ""])),
               draw(st.sampled_from([None, "Total knee arthroplasty"])),
               draw(st.sampled_from([None, 0, 1])),
               draw(st.sampled_from([None, "odi", "nprs", "lefs"])),
               draw(st.one_of(st.none(), _dates)))
    responses = []
    for rid in range(draw(st.integers(0, 8))):
        instrument = draw(st.sampled_from(sorted(_SCALES)))
        scores = {s: draw(_score) for s in _SCALES[instrument]}
        responses.append((instrument, draw(st.sampled_from(
            ["intake", "progress", "discharge", "follow_up"])),
            draw(st.dates(date(2023, 12, 1), date(2024, 4, 1)).map(date.isoformat)),
            rid + 1, json.dumps(scores)))
    responses.sort(key=lambda r: (r[2], r[3]))
    return episode, responses


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=6).flatmap(
    lambda ns: st.tuples(*[episodes(n) for n in ns])))
def test_memoised_summary_is_the_reference(cases: tuple[Any, ...]) -> None:
    shared = summary.Memo()  # one memo across episodes, as one import keeps it across chunks
    for episode, responses in cases:
        expected = reference(episode, responses)
        assert summary.summarise(episode, responses) == expected
        assert summary.summarise(episode, responses, memo=shared) == expected


def test_a_memo_at_its_limit_still_gives_the_rules_results(monkeypatch: Any) -> None:
    # Past the limit nothing more is remembered, but every look-up still answers.
    monkeypatch.setattr(summary, "_MEMO_LIMIT", 1)
    memo = summary.Memo()
    episode = ("E1", 1, "2024-01-01", "A", "discharged", "2024-03-01", "low back", "M54.5",
               None, None, None, "2024-01-02")
    responses = [("odi", "intake", "2024-01-02", 1, json.dumps({"odi": 40.0})),
                 ("odi", "progress", "2024-01-20", 2, json.dumps({"odi": 30.0})),
                 ("odi", "discharge", "2024-02-20", 3, json.dumps({"odi": 10.0}))]
    for _ in range(2):
        assert summary.summarise(episode, responses, memo=memo) == reference(episode, responses)
    assert len(memo.decoded) == 1 and len(memo.days) == 1
    row = summary.summarise(episode, responses, memo=memo)[0]
    # 40 -> 10 on the ODI: 30 points better; the MCID is first reached at discharge, day 49
    # after the first visit (the progress score, 40 -> 30, is not enough).
    assert (row[11], row[12], row[17], row[18]) == (30.0, 1, 49, 1)


# Every installed scale with a published MCID, for the threshold tests below.
_MCID_SCALES = sorted({(sid, s.mcid.unit) for inst in catalog.instruments().values()
                       for sid, s in inst.scales.items() if s.mcid is not None})


def test_the_catalog_has_both_kinds_of_mcid() -> None:
    # Otherwise the property below would not try one of gain_reaches_mcid's two branches.
    assert {unit for _sid, unit in _MCID_SCALES} == {"points", "percent"}


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_MCID_SCALES), st.floats(0, 100, allow_nan=False),
       st.sampled_from([-1.0, -1e-9, -1e-10, 0.0, 1e-10, 1e-9, 1.0]), st.booleans())
def test_the_summary_mcid_rule_is_scorings_at_the_threshold(
        scale_unit: tuple[str, str], intake: float, nudge: float, flip: bool) -> None:
    # The final score just below, at and just above the MCID over the intake (both ways, and
    # an intake of 0 for a percent MCID): the summary's unpacked rule answers as scoring does.
    scale = scoring.scale_by_id(scale_unit[0], catalog.instruments())[1]
    assert scale.mcid is not None
    higher, unit, value = summary._rule(scale)
    step = value if unit == "points" else value * intake / 100.0
    sign = 1.0 if higher else -1.0
    final = intake + sign * (step + nudge) * (-1.0 if flip else 1.0)
    gain = scoring.improvement(scale, intake, final)
    assert unit is not None
    assert scoring.gain_reaches_mcid(unit, value, intake, gain) == scoring.mcid_reached(
        scale, intake, final)
    scored = [("intake", "2024-01-01", 1, intake), ("progress", "2024-01-11", 2, final)]
    expected = _ref_recovery(scale, date(2024, 1, 1), [_Ref(*s) for s in scored])
    assert summary._recovery(higher, unit, value, date(2024, 1, 1), scored,
                             summary._day) == expected


def test_no_change_is_no_recovery_even_on_a_tiny_percent_intake() -> None:
    # 30% of an intake of 1e-12 is below the float tolerance: only "gain > 0" refuses a
    # final score equal to the intake, in scoring and in the summary alike.
    scale = scoring.scale_by_id("odi", catalog.instruments())[1]
    _higher, unit, value = summary._rule(scale)
    assert unit == "percent" and not scoring.mcid_reached(scale, 1e-12, 1e-12)
    assert unit is not None and not scoring.gain_reaches_mcid(unit, value, 1e-12, 0.0)
    assert scoring.gain_reaches_mcid(unit, value, 1e-12, 1e-12)  # any gain at all reaches it here
