"""The command line as a user meets it: help, version, exit codes, the database option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from outcomes import __version__
from tests.cli_helpers import run_cli


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "--help")
    assert result.code == 0
    for command in ("init", "demo", "import", "export", "template", "instruments", "score",
                    "responses", "nps", "settings"):
        assert command in result.out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "--version")
    assert result.code == 0 and result.out.strip() == f"outcomes {__version__}"


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "no-such-command").code == 2
    assert run_cli(capsys, "import", "widgets", "x.csv").code == 2


def test_domain_error_is_one_line_on_stderr_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "score", "odi", "1", "2", "9", "0", "0", "0", "0", "0", "0", "0")
    assert result.code == 1
    assert result.err.startswith("Error: ")
    assert "Traceback" not in result.err
    assert "item 3" in result.err.lower() or "answer 3" in result.err.lower()


def test_db_option_env_and_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str],
                                   isolated_dirs: Path) -> None:
    explicit = tmp_path / "explicit.db"
    assert run_cli(capsys, "--db", str(explicit), "init").code == 0
    assert explicit.exists()
    env_db = tmp_path / "env.db"
    monkeypatch.setenv("OUTCOMES_DB", str(env_db))
    assert run_cli(capsys, "init").code == 0
    assert env_db.exists()
    monkeypatch.delenv("OUTCOMES_DB")
    result = run_cli(capsys, "init")
    assert result.code == 0
    assert str(isolated_dirs) in result.out  # the user data folder, inside the test's HOME


def test_not_a_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.db"
    path.write_text("hello")
    result = run_cli(capsys, "--db", str(path), "init")
    assert result.code == 1
    assert "not an SQLite file" in result.err
    assert path.read_text() == "hello"


def test_score_prints_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "score", "odi", "2", "3", "1", "0", "2", "-", "1", "2", "3", "1")
    data = json.loads(result.out)
    assert data == {"instrument": "odi", "scores": {"odi": pytest.approx(15 / 45 * 100)},
                    "scorable": True, "reason": None}
    result = run_cli(capsys, "score", "promis10", *["3"] * 6, "5", *["3"] * 3)
    assert set(json.loads(result.out)["scores"]) == {"gph", "gmh"}


def test_demo_then_responses_add_and_nps_add(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "d.db")
    result = run_cli(capsys, "--db", db, "demo", "--no-tui")
    assert result.code == 0 and "partners" in result.err
    again = run_cli(capsys, "--db", db, "demo", "--no-tui")
    assert "Reusing" in again.err
    result = run_cli(capsys, "--db", db, "responses", "add", "E00001", "odi", "follow up",
                     "1", "1", "1", "1", "1", "1", "1", "1", "1", "1", "--date", "2026-01-05")
    assert result.code == 0, result.err
    assert json.loads(result.out)["scores"] == {"odi": 20.0}
    result = run_cli(capsys, "--db", db, "nps", "add", "E00001", "11")
    assert result.code == 1 and "0 to 10" in result.err
    result = run_cli(capsys, "--db", db, "nps", "add", "-", "9", "--comment", "[bold]hi")
    assert result.code == 0
    export = run_cli(capsys, "--db", db, "export", "nps", "--format", "json")
    assert any(r["comment"] == "[bold]hi" and r["episode_id"] is None
               for r in json.loads(export.out))


def test_future_date_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "d.db")
    run_cli(capsys, "--db", db, "demo", "--no-tui")
    result = run_cli(capsys, "--db", db, "nps", "add", "-", "9", "--date", "2999-01-01")
    assert result.code == 2 and "future" in result.err


def test_template_prints_header_only(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "template", "referrals")
    lines = result.out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("episode_id,patient_id,partner_npi,partner,referral_date")
