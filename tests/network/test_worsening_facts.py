"""The worsening check reads its scale facts without pydantic, and they are the catalog's.

``network.worsening.scale_facts`` reads name, direction and MCID from the definition files
with tomllib; these tests hold it equal to the validated catalog (``catalog_facts``) on the
shipped files, with the user's own files added or overriding, and require it to fail as the
catalog does on each broken file of ``tests/data/surveys_broken``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from outcomes.errors import InstrumentError
from outcomes.measures import catalog, instruments
from outcomes.network import worsening
from outcomes.network.worsening import catalog_facts, scale_facts
from outcomes.paths import cache_dir

BROKEN = Path(__file__).parents[1] / "data" / "surveys_broken"


def user_dir(home: Path) -> Path:
    folder = home / "config" / "outcomes" / "surveys"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_shipped_facts_are_the_catalogs() -> None:
    facts = scale_facts()
    assert facts == catalog_facts()
    # Both directions and both MCID units are among them, so the comparison can tell.
    flat = [f for scales in facts.values() for f in scales.values()]
    assert {f.higher_is_better for f in flat} == {True, False}
    assert {f.mcid.unit for f in flat if f.mcid} == {"points", "percent"}
    assert any(f.mcid is None for f in flat)


def test_a_user_file_overrides_and_adds_as_in_the_catalog(isolated_dirs: Path) -> None:
    folder = user_dir(isolated_dirs)
    shipped = instruments.shipped_surveys_dir()
    # An override of the NDI with another MCID and direction-free change of name.
    text = (shipped / "ndi.toml").read_text(encoding="utf-8")
    assert 'name = "Neck Disability Index"' in text
    (folder / "ndi.toml").write_text(text.replace('name = "Neck Disability Index"',
                                                  'name = "NDI (clinic copy)"', 1),
                                     encoding="utf-8")
    # A new instrument: the shipped NPRS under another id and scale id.
    nprs = (shipped / "nprs.toml").read_text(encoding="utf-8")
    (folder / "nprs_clinic.toml").write_text(
        nprs.replace('id = "nprs"', 'id = "nprs_clinic"', 1).replace(
            "[scales.nprs]", "[scales.nprs_clinic]").replace("[scales.nprs.", "[scales.nprs_clinic."),
        encoding="utf-8")
    catalog.instruments.cache_clear()
    facts = scale_facts()
    assert "nprs_clinic" in facts
    assert facts == catalog_facts()


def test_a_changed_file_is_read_again(isolated_dirs: Path) -> None:
    before = scale_facts()
    folder = user_dir(isolated_dirs)
    shutil.copy(instruments.shipped_surveys_dir() / "lefs.toml", folder / "lefs.toml")
    text = (folder / "lefs.toml").read_text(encoding="utf-8")
    (folder / "lefs.toml").write_text(text.replace("value = 9", "value = 11", 1),
                                      encoding="utf-8")
    catalog.instruments.cache_clear()
    after = scale_facts()
    assert after == catalog_facts() and after != before


# Broken where the scale facts do not look: the catalog refuses them, the worsening check
# reads its three facts from them (the commands and screens that score report the file).
BROKEN_ELSEWHERE = {"extra_field.toml", "lookup_gap.toml", "missing_field.toml",
                    "unknown_item.toml"}


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN.glob("*.toml")))
def test_a_broken_user_file_fails_as_in_the_catalog_where_it_touches_the_facts(
    isolated_dirs: Path, name: str,
) -> None:
    folder = user_dir(isolated_dirs)
    shutil.copy(BROKEN / name, folder / name)
    catalog.instruments.cache_clear()
    with pytest.raises(InstrumentError) as refused:
        catalog_facts()
    if name in BROKEN_ELSEWHERE:
        assert Path(name).stem in scale_facts()
    else:
        with pytest.raises(InstrumentError) as also:
            scale_facts()
        assert str(also.value) == str(refused.value)


def test_a_scale_id_used_twice_fails_as_in_the_catalog(isolated_dirs: Path) -> None:
    folder = user_dir(isolated_dirs)
    promis = (instruments.shipped_surveys_dir() / "promis10.toml").read_text(encoding="utf-8")
    (folder / "promis10_twin.toml").write_text(
        promis.replace('id = "promis10"', 'id = "promis10_twin"', 1), encoding="utf-8")
    catalog.instruments.cache_clear()
    with pytest.raises(InstrumentError, match="used by both"):
        scale_facts()


def test_the_worsening_check_imports_no_pydantic(demo_db_path: Path) -> None:
    code = (
        "import sys\n"
        "from datetime import date\n"
        "import sqlite3\n"
        "from outcomes.network import worsening\n"
        f"db = sqlite3.connect({str(demo_db_path)!r})\n"
        "found = worsening.worsening(db, date(2026, 11, 22), 3)\n"
        "print(len(found) > 0, 'pydantic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[2])
    assert out.stdout.split() == ["True", "False"]


def _counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each parse of the definition files, counted; the in-process memo cleared first."""
    reads: list[int] = []
    real = worsening._read_facts

    def counted(files: Any) -> Any:
        reads.append(len(files))
        return real(files)

    monkeypatch.setattr(worsening, "_read_facts", counted)
    worsening._facts_of.cache_clear()
    return reads


def test_the_facts_are_kept_for_the_next_start_and_read_back_equal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _counted_reads(monkeypatch)
    first = scale_facts()
    assert reads and (cache_dir() / worsening._CACHE_FILE).is_file()
    worsening._facts_of.cache_clear()  # a new process
    again = scale_facts()
    assert len(reads) == 1  # not parsed again
    assert again == first == catalog_facts()


def test_a_changed_file_is_not_served_from_the_kept_facts(
        isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _counted_reads(monkeypatch)
    before = scale_facts()
    folder = user_dir(isolated_dirs)
    shutil.copy(instruments.shipped_surveys_dir() / "lefs.toml", folder / "lefs.toml")
    worsening._facts_of.cache_clear()
    assert scale_facts() == before and len(reads) == 2  # one more file: read again
    text = (folder / "lefs.toml").read_text(encoding="utf-8")
    (folder / "lefs.toml").write_text(text.replace("value = 9", "value = 11", 1),
                                      encoding="utf-8")
    worsening._facts_of.cache_clear()
    catalog.instruments.cache_clear()
    after = scale_facts()
    assert len(reads) == 3 and after != before and after == catalog_facts()


@pytest.mark.parametrize("kept", ["not json", '{"version": 1}', '{"version": 1, "files": [],'
                                  ' "facts": {}}', '[1, 2]', '{"version": 99}'])
def test_kept_facts_that_do_not_fit_are_ignored(kept: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _counted_reads(monkeypatch)
    cache_dir().mkdir(parents=True, exist_ok=True)
    (cache_dir() / worsening._CACHE_FILE).write_text(kept, encoding="utf-8")
    assert scale_facts() == catalog_facts()
    assert len(reads) == 1


def test_no_writable_cache_folder_changes_nothing(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("OUTCOMES_CACHE_DIR", str(blocker / "cache"))
    reads = _counted_reads(monkeypatch)
    assert scale_facts() == catalog_facts()
    worsening._facts_of.cache_clear()
    assert scale_facts() == catalog_facts() and len(reads) == 2
