"""A wheel built from the repo (not editable) holds the core, the TUI and every survey file,
and works from any directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(REPO)],
        check=True, capture_output=True, text=True,
    )
    (wheel_file,) = out.glob("outcomes-*.whl")
    return wheel_file


@pytest.mark.slow
def test_wheel_contains_core_tui_and_every_survey(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "outcomes/cli/__init__.py" in names
    assert "outcomes_tui/app.py" in names
    assert not any(n.startswith("tui/") for n in names)
    for survey in (REPO / "surveys").glob("*.toml"):
        assert f"outcomes/surveys/{survey.name}" in names


@pytest.mark.slow
def test_installed_wheel_works_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import outcomes, outcomes_tui.app;"
        "assert outcomes.__file__.startswith(sys.argv[1]), outcomes.__file__;"
        "assert outcomes_tui.app.__file__.startswith(sys.argv[1]);"
        "from outcomes.measures.instruments import shipped_surveys_dir;"
        "assert str(shipped_surveys_dir()).startswith(sys.argv[1]), shipped_surveys_dir();"
        "from outcomes.cli import main; main(sys.argv[2:])"
    )
    db = tmp_path / "w.db"
    for args in (["--db", str(db), "instruments"], ["--db", str(db), "demo", "--no-tui"]):
        result = subprocess.run([sys.executable, "-c", script, str(target), *args],
                                cwd=elsewhere, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    assert "koos_jr" in subprocess.run(
        [sys.executable, "-c", script, str(target), "--db", str(db), "instruments"],
        cwd=elsewhere, capture_output=True, text=True).stdout
