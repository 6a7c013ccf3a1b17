"""`outcomes model fit|report` as a user meets them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli

PERIOD = ("--from", "2025-11-23", "--to", "2026-11-22")


def test_report_before_any_fit_says_what_to_do(demo_db_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "--db", str(demo_db_path), "model", "report", *PERIOD)
    assert result.code == 0
    assert "No model is fitted yet: outcomes model fit" in result.out


def test_fit_then_report(demo_db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(demo_db_path)
    fitted = run_cli(capsys, "--db", db, "model", "fit")
    assert fitted.code == 0, fitted.err
    for scale in ("odi", "ndi", "lefs", "quickdash"):
        assert f"{scale}: " in fitted.out
    assert "Stored 7 model(s)." in fitted.out

    text = run_cli(capsys, "--db", db, "model", "report", "--measure", "odi", *PERIOD)
    assert text.code == 0, text.err
    for needle in ("R-squared", "cross-validated RMSE", "intercept", "intake",
                   "calibration by decile", "observed minus expected"):
        assert needle in text.out

    out = run_cli(capsys, "--db", db, "model", "report", "--measure", "odi", "--json",
                  *PERIOD)
    report = json.loads(out.out)
    (odi,) = report["models"]
    assert odi["scale"] == "odi" and odi["n"] >= 50
    assert [c["term"] for c in odi["coefficients"]][:2] == ["intercept", "intake"]
    assert len(odi["calibration"]) == 10
    assert sum(d["n"] for d in odi["calibration"]) == odi["n"]
    for partner in odi["partners"]:
        shown = partner["observed_minus_expected"] is not None
        assert shown == (odi["validates"] and partner["n"] >= report["min_n"])
        if shown:
            lo, hi = partner["ci95"]
            assert lo < partner["observed_minus_expected"] < hi


def test_report_for_one_partner(demo_db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(demo_db_path)
    run_cli(capsys, "--db", db, "model", "fit", "--measure", "odi")
    out = run_cli(capsys, "--db", db, "model", "report", "--partner", "Hale", "--json",
                  *PERIOD)
    assert out.code == 0, out.err
    (odi,) = json.loads(out.out)["models"]
    assert [p["name"] for p in odi["partners"]] == ["Dr. Margaret Hale"]


@pytest.mark.parametrize("command", ["fit", "report"])
def test_an_unknown_measure_is_one_line_error(demo_db_path: Path, command: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "--db", str(demo_db_path), "model", command, "--measure", "xyz")
    assert result.code == 1
    assert result.err.startswith("Error: ") and "'xyz'" in result.err
    assert "Traceback" not in result.err


def test_fit_on_an_empty_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "--db", str(tmp_path / "new.db"), "model", "fit")
    assert result.code == 0
    assert "nothing to fit" in result.out
