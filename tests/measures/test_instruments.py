"""Loader tests: shipped files, broken files (one per failure mode), user dirs, docs coverage."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from outcomes.errors import InstrumentError
from outcomes.measures.instruments import (
    Instrument,
    get_instrument,
    load_file,
    load_instruments,
    shipped_surveys_dir,
)

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).resolve().parents[1] / "data" / "surveys_broken"
EXPECTED_IDS = {
    "odi", "ndi", "lefs", "quickdash", "quickdash_work", "quickdash_sports",
    "nprs", "psfs", "koos_jr", "hoos_jr", "promis10", "nps",
}  # fmt: skip


def test_shipped_dir_found():
    assert shipped_surveys_dir().is_dir()


@pytest.mark.parametrize("path", sorted(shipped_surveys_dir().glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_file_loads(path):
    instrument = load_file(path)
    assert isinstance(instrument, Instrument)
    assert instrument.id == path.stem


def test_all_instruments_present_and_scale_ids_unique():
    instruments = load_instruments()
    assert set(instruments) == EXPECTED_IDS
    scale_ids = [s for inst in instruments.values() for s in inst.scales]
    assert len(scale_ids) == len(set(scale_ids))
    assert set(scale_ids) == (EXPECTED_IDS - {"promis10"}) | {"gph", "gmh"}


def test_every_scale_cites_its_sources():
    for inst in load_instruments().values():
        assert inst.licence and inst.source
        for scale in inst.scales.values():
            assert scale.missing.rationale
            if scale.mcid is not None:
                assert scale.mcid.source and scale.mcid.population
            if scale.lookup is not None:
                assert scale.lookup_source


@pytest.mark.parametrize(
    ("file", "field"),
    [
        ("bad_syntax.toml", "line 16"),
        ("missing_field.toml", "name: Field required"),
        ("wrong_type.toml", "scales.wrong_type.mcid.value: Input should be a valid number"),
        ("lookup_gap.toml", "scales.lookup_gap.lookup: no score for raw sum 3"),
        ("unknown_item.toml", "scales.unknown_item.items: unknown item 'running'"),
        (
            "extra_field.toml",
            "scales.extra_field.missing.max_misssing: Extra inputs are not permitted",
        ),
    ],
)
def test_broken_file_names_file_and_field(file, field):
    with pytest.raises(InstrumentError) as err:
        load_file(BROKEN / file)
    message = str(err.value)
    assert file in message
    assert field in message
    assert "\n" not in message


def test_broken_file_in_user_dir_fails_load(tmp_path):
    shutil.copy(BROKEN / "wrong_type.toml", tmp_path / "wrong_type.toml")
    with pytest.raises(InstrumentError, match=r"wrong_type\.toml"):
        load_instruments([tmp_path])


def test_file_name_must_match_id(tmp_path):
    text = (shipped_surveys_dir() / "nprs.toml").read_text()
    (tmp_path / "pain.toml").write_text(text)
    with pytest.raises(InstrumentError, match="must match the file name"):
        load_file(tmp_path / "pain.toml")


def test_user_dir_adds_an_instrument(tmp_path):
    text = (shipped_surveys_dir() / "nprs.toml").read_text()
    text = text.replace('id = "nprs"', 'id = "vas_clinic"').replace(
        "[scales.nprs", "[scales.vas_clinic"
    )
    (tmp_path / "vas_clinic.toml").write_text(text)
    instruments = load_instruments([tmp_path])
    assert "vas_clinic" in instruments
    assert "nprs" in instruments
    assert "vas_clinic" not in load_instruments()  # the shipped cache is not modified


def test_user_file_overrides_shipped(tmp_path):
    text = (shipped_surveys_dir() / "odi.toml").read_text()
    text = text.replace('value = 30.0\nunit = "percent"', 'value = 10.0\nunit = "points"')
    (tmp_path / "odi.toml").write_text(text)
    instruments = load_instruments([tmp_path])
    assert instruments["odi"].scales["odi"].mcid is not None
    assert instruments["odi"].scales["odi"].mcid.unit == "points"
    assert load_instruments()["odi"].scales["odi"].mcid.unit == "percent"  # type: ignore[union-attr]


def test_missing_user_dir_is_ignored(tmp_path):
    assert set(load_instruments([tmp_path / "nope"])) == EXPECTED_IDS


def test_duplicate_scale_id_across_instruments(tmp_path):
    # A second instrument reusing the scale ids "gph"/"gmh" would make scale_by_id ambiguous.
    promis = (shipped_surveys_dir() / "promis10.toml").read_text()
    (tmp_path / "promis_copy.toml").write_text(
        promis.replace('id = "promis10"', 'id = "promis_copy"')
    )
    with pytest.raises(InstrumentError, match=r"'gph'"):
        load_instruments([tmp_path])


def test_get_instrument_unknown_lists_ids():
    assert get_instrument("odi").id == "odi"
    with pytest.raises(InstrumentError) as err:
        get_instrument("womac")
    assert "koos_jr" in str(err.value) and "womac" in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("min = 0\nmax = 10", "min = 10\nmax = 0", "items.0"),
        ('body_regions = ["any"]', 'body_regions = ["spleen"]', "body_regions"),
        ("score_max = 10.0", "score_max = 100.0", "score_min"),
        ('unit = "points"', 'unit = "percentage"', "scales.nprs.mcid.unit"),
    ],
)
def test_inconsistent_definitions_rejected(tmp_path, old, new, field):
    text = (shipped_surveys_dir() / "nprs.toml").read_text()
    assert old in text
    (tmp_path / "nprs.toml").write_text(text.replace(old, new, 1))
    with pytest.raises(InstrumentError) as err:
        load_file(tmp_path / "nprs.toml")
    assert field in str(err.value)


def test_every_instrument_is_documented_with_its_mcid():
    doc = (ROOT / "docs" / "instruments.md").read_text(encoding="utf-8")
    lines = doc.splitlines()
    for inst in load_instruments().values():
        for scale_id, scale in inst.scales.items():
            rows = [ln for ln in lines if ln.startswith("|") and f"`{scale_id}`" in ln]
            assert rows, f"{inst.id}/{scale_id} has no row in docs/instruments.md"
            expected = f"{scale.mcid.value:g}" if scale.mcid else "none"
            assert any(re.search(rf"\b{re.escape(expected)}\b", r) for r in rows), (
                f"docs/instruments.md does not show MCID {expected} for {scale_id}"
            )
        assert re.search(rf"^#+ .*`{inst.id}`", doc, flags=re.MULTILINE), (
            f"no heading for {inst.id}"
        )
