"""The pieces the bulk import compiles once per file, each against the rule it stands for."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.dates import EARLIEST_CARE_DATE, FUTURE_LIMIT, parse_date
from outcomes.errors import ValidationError
from outcomes.importing.fast import Dates, Words
from outcomes.importing.importer import run_import
from outcomes.measures import catalog, responses, scoring
from outcomes.vocab import BODY_REGIONS
from tests.conftest import DEMO_TODAY

INSTRUMENTS = sorted(catalog.instruments())


@settings(max_examples=300, deadline=None)
@given(iid=st.sampled_from(INSTRUMENTS), data=st.data())
def test_compiled_scorer_stores_what_the_published_rules_give(iid: str,
                                                              data: st.DataObject) -> None:
    instrument = catalog.instruments()[iid]
    answers = [data.draw(st.integers(item.min, item.max)) for item in instrument.items]
    text = ";".join(str(a) for a in answers)
    fast = responses.compile_scorer(instrument)(text)
    assert fast is not None  # every item answered in range: the fast path must take it
    reference = responses.prepare(instrument, "E1", "intake", date(2026, 1, 5),
                                  responses.parse_answers(text.split(";")))
    made = responses.PreparedResponse("E1", instrument.id, instrument.version, "intake",
                                      date(2026, 1, 5), *fast[:4], False, fast[4])
    assert made.row() == reference.row()
    # bit for bit, not just ==: repr tells 0.1 + 0.2 from 0.3
    assert repr(fast[1]) == repr(scoring.score(instrument, answers).scores)


@pytest.mark.parametrize(("token", "why"), [
    ("-", "a skipped item: the general rules decide whether the scale still scores"),
    ("", "an empty place is a skipped item too"),
    (" 3", "spaces: the general parser strips them"),
    ("03", "a leading zero is not how the tokens are spelled"),
    ("99", "out of every item's range"),
    ("x", "not a number: the general path words the error"),
])
def test_compiled_scorer_leaves_anything_unusual_to_the_general_path(token: str,
                                                                     why: str) -> None:
    instrument = catalog.instruments()["odi"]
    tokens = ["2"] * len(instrument.items)
    tokens[3] = token
    assert responses.compile_scorer(instrument)(";".join(tokens)) is None, why
    assert responses.compile_scorer(instrument)(";".join(tokens[:-1])) is None  # too few


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(
    st.dates(date(1890, 1, 1), date(2031, 1, 1)).map(date.isoformat),
    st.dates(date(1890, 1, 1), date(2031, 1, 1)).map(lambda d: f"{d.month}/{d.day}/{d.year}"),
    st.dates(date(1890, 1, 1), date(2031, 1, 1)).map(lambda d: d.strftime("%b %d %Y")),
    st.text(alphabet="0123456789/-. abcMar", max_size=12)))
def test_cached_dates_agree_with_parse_date(text: str) -> None:
    reference = date(2026, 11, 22)
    dates = Dates(reference)
    def decided(value: date | None) -> date | None:
        """The fast path decides only dates inside every field's plausible range; the rest
        fall back to the models (None here)."""
        if value is None or not EARLIEST_CARE_DATE <= value <= reference + FUTURE_LIMIT:
            return None
        return value

    for _ in range(2):  # the second time from the cache
        try:
            expected: date | None = parse_date(text, reference=reference)
        except ValidationError:
            expected = None
        assert dates.past(text) == decided(expected)
        try:
            anytime: date | None = parse_date(text, allow_future=True, reference=reference)
        except ValidationError:
            anytime = None
        assert dates.any(text) == decided(anytime)


@pytest.mark.parametrize(("spelled", "canonical"), [
    ("Lumbar", "low back"),  # a synonym, any case
    ("knee", "knee"),  # the value itself
    ("toe", None),  # unknown: None, and the general path lists the valid values
])
def test_words_are_the_vocabulary(spelled: str, canonical: str | None) -> None:
    words = Words(BODY_REGIONS)
    assert words.get(spelled) == canonical
    assert words.get(spelled) == canonical


def test_progress_is_reported_per_chunk_on_large_files(demo_db: Database,
                                                       tmp_path: Path) -> None:
    npi = demo_db.execute("SELECT npi FROM partners WHERE npi IS NOT NULL LIMIT 1").fetchone()[0]
    path = tmp_path / "touchpoints.csv"
    rows = [f"{npi},2026-0{m % 9 + 1}-1{m % 9},phone,call {m}" for m in range(12_000)]
    path.write_text("partner_npi,date,method,summary\n" + "\n".join(rows) + "\n")
    seen: list[tuple[int, int]] = []
    report = run_import(demo_db, "touchpoints", path, today=DEMO_TODAY,
                        progress=lambda done, total: seen.append((done, total)))
    assert report.written and report.rows == 12_000
    assert len(seen) >= 3 and seen[-1][0] == seen[-1][1]
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
