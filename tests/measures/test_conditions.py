"""Conditions: the procedure vocabulary, ICD-10 -> condition group, the primary measure."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes import vocab
from outcomes.errors import ValidationError
from outcomes.measures import catalog
from outcomes.measures.conditions import (
    ConditionsFileError,
    conditions,
    normalize_fields,
    other_group,
    parse,
    surgical_status,
)

BROKEN = Path(__file__).resolve().parents[1] / "data" / "conditions"
SHIPPED = tomllib.loads(resources.files("outcomes").joinpath("data/conditions.toml")
                        .read_text("utf-8"))


@pytest.mark.parametrize(("typed", "name"), [
    ("TKA", "Total knee arthroplasty"),          # abbreviation
    ("tkr", "Total knee arthroplasty"),          # case does not matter
    ("Total knee", "Total knee arthroplasty"),   # short form
    ("total-knee replacement", "Total knee arthroplasty"),  # punctuation ignored
    ("THA", "Total hip arthroplasty"),
    ("ACLR", "ACL reconstruction"),
    ("acl reconstruction", "ACL reconstruction"),  # the name itself, any case
    ("RCR", "Rotator cuff repair"),
    ("ACDF", "Spinal fusion"),                   # a cervical fusion is a spinal fusion
    ("microdiscectomy", "Lumbar discectomy or laminectomy"),
    ("APM", "Meniscectomy or meniscus repair"),
    ("ankle ORIF", "Ankle fracture ORIF"),
    ("reverse shoulder", "Shoulder arthroplasty"),
    ("carpal tunnel", "Carpal tunnel release"),
])
def test_procedure_synonyms(typed: str, name: str) -> None:
    assert conditions().procedure(typed) == name


def test_unknown_procedure_is_refused_with_the_list() -> None:
    with pytest.raises(ValidationError) as caught:
        conditions().procedure("knee thing")
    assert caught.value.field == "procedure"
    assert "Total knee arthroplasty" in str(caught.value)
    assert conditions().find_procedure("knee thing") is None


@pytest.mark.parametrize(("code", "region", "group"), [
    ("M54.50", "low back", "Low back pain"),        # M54.5x
    ("M54.41", "low back", "Low back pain"),        # lumbago with sciatica, M54.4x
    ("M5450", "low back", "Low back pain"),         # written without the dot
    ("m17.11", "knee", "Knee osteoarthritis"),      # lower case
    ("S83.511A", "knee", "Knee ligament injury"),   # S83.5
    ("M75.101", "shoulder", "Rotator cuff disorder"),
    ("M25.561", "knee", "Knee pain"),               # M25.56 beats nothing shorter
    ("M25.511", "shoulder", "Shoulder pain"),       # M25.5x by region of the code
    ("Z96.651", "knee", "After knee replacement"),  # Z96.65 beats Z96.6 (longest prefix)
    ("Z96.69", "knee", "After joint replacement"),  # only Z96.6 matches
    ("G56.01", "wrist/hand", "Carpal tunnel syndrome"),
    ("R26.89", "knee", "Other knee"),               # no prefix: the region's fallback
    (None, "low back", "Other low back"),           # no diagnosis
    ("R26.89", "other", "Other condition"),
])
def test_condition_groups(code: str | None, region: str, group: str) -> None:
    assert conditions().group(code, region) == group


CODES = st.from_regex(r"[A-TV-Z][0-9][0-9](\.[0-9A-Z]{1,4})?", fullmatch=True)


@given(code=CODES, region=st.sampled_from(vocab.BODY_REGIONS.values))
def test_group_is_the_longest_matching_prefix_or_the_fallback(code: str, region: str) -> None:
    matches = [(p, g["name"]) for g in SHIPPED["group"] for p in g["prefixes"]
               if code.startswith(p)]
    got = conditions().group(code, region)
    if matches:
        longest = max(len(p) for p, _ in matches)
        assert got in {g for p, g in matches if len(p) == longest}
    else:
        assert got == other_group(region)


def test_primary_measure_by_region_and_override() -> None:
    tables = conditions()
    assert tables.primary_instrument("low back", None, set()) == "odi"
    assert tables.primary_instrument("neck", None, {"nprs", "ndi"}) == "ndi"
    assert tables.primary_instrument("shoulder", None, set()) == "quickdash"
    # Knee: KOOS JR when answered at intake, else LEFS when that was, else KOOS JR.
    assert tables.primary_instrument("knee", None, {"koos_jr", "lefs"}) == "koos_jr"
    assert tables.primary_instrument("knee", None, {"lefs", "nprs"}) == "lefs"
    assert tables.primary_instrument("knee", None, {"nprs"}) == "koos_jr"
    assert tables.primary_instrument("knee", "nprs", {"koos_jr"}) == "nprs"  # the override
    # Every region has a primary list of known outcome instruments.
    known = catalog.instruments()
    for region in vocab.BODY_REGIONS.values:
        for instrument in tables.primary_instruments(region):
            assert instrument in known and instrument != "nps"


def test_surgical_status() -> None:
    assert surgical_status(None, None) is None
    assert surgical_status(None, "Total knee arthroplasty") is True
    assert surgical_status(0, None) is False
    assert surgical_status(1, None) is True


def test_normalize_fields() -> None:
    data: dict[str, object] = {"procedure": "tka", "instrument": "KOOS JR"}
    normalize_fields(data)
    assert data == {"procedure": "Total knee arthroplasty", "instrument": "koos_jr"}
    with pytest.raises(ValidationError) as caught:
        normalize_fields({"instrument": "nps"})
    assert caught.value.field == "instrument"


@pytest.mark.parametrize(("name", "line", "words"), [
    ("unknown_region.toml", 3, "'kneee' of 'Total knee arthroplasty' is not a body region"),
    ("bad_prefix.toml", 12, "'low back' in group 'Low back pain' is not an ICD-10-CM code"),
    ("shared_synonym.toml", 6, "'replacement' is a synonym of two values"),
    ("duplicate_prefix.toml", 12, "prefix M17 is in both"),
    ("unknown_instrument.toml", 12, "'koos' is not an outcome instrument"),
    ("not_toml.toml", None, "not valid TOML"),
    ("missing_region.toml", 10, "no primary measure for the region"),
    ("unknown_key.toml", 4, "unknown key 'synonym'"),
])
def test_broken_files_name_the_file_and_line(name: str, line: int | None, words: str) -> None:
    path = BROKEN / name
    with pytest.raises(ConditionsFileError) as caught:
        parse(path.read_text("utf-8"), str(path))
    message = str(caught.value)
    assert message.startswith(str(path))
    assert words in message
    if line is not None:
        assert f"{path}, line {line}:" in message


def test_shipped_file_loads_and_every_group_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text("utf-8")
    tables = conditions()
    for group in tables.groups:
        assert group.name in docs, group.name
    for procedure in tables.procedures:
        assert procedure.name in docs, procedure.name


PREFIXES = sorted(p for g in SHIPPED["group"] for p in g["prefixes"])


@given(prefix=st.sampled_from(PREFIXES), tail=st.text(alphabet="0123456789AX.", max_size=4),
       cut=st.integers(0, 3), region=st.sampled_from(vocab.BODY_REGIONS.values))
def test_group_look_up_is_a_scan_of_every_prefix(prefix: str, tail: str, cut: int,
                                                 region: str) -> None:
    # Codes built on the shipped prefixes (longer, equal, or cut short), so most of them match
    # one or several: the dict look-up by length answers what a scan longest-first answers.
    code = (prefix + tail)[: max(3, len(prefix) - cut)] if cut else prefix + tail
    typed = code.replace(".", "") if cut == 3 else code.lower() if cut == 2 else code
    scan = sorted(((p, g["name"]) for g in SHIPPED["group"] for p in g["prefixes"]),
                  key=lambda pg: (-len(pg[0]), pg[0]))
    written = typed.strip().upper()
    if "." not in written and len(written) > 3:
        written = f"{written[:3]}.{written[3:]}"
    expected = next((g for p, g in scan if written.startswith(p)), other_group(region))
    assert conditions().group(typed, region) == expected
