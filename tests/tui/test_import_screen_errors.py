"""The import screen's check ends in a visible error on every failure, never "Checking…"
forever (issue 16: a file with a NUL byte left the screen waiting)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from outcomes_tui.screens.import_screen import ImportScreen
from tests.tui.conftest import wait_until


def check(app: Any, drive: Any, settle: Any, path: str) -> tuple[str, set[str]]:
    seen: dict[str, Any] = {}

    async def body(pilot: Any) -> None:
        await pilot.press("f6")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#path", Input).value = path
        screen.query_one("#path", Input).focus()
        await pilot.press("enter")
        status = screen.query_one("#status", Static)
        # The check runs in a worker and its error comes back as a message: wait for the state
        # (the status no longer says "Checking"), not for a number of rounds.
        await wait_until(pilot, lambda: "Checking" not in str(status.render())
                         and not str(status.render()).startswith("Enter a path"))
        seen["text"] = str(status.render())
        seen["classes"] = set(status.classes)

    drive(app, body)
    return seen["text"], seen["classes"]


def test_a_file_with_a_nul_byte_ends_in_a_visible_error(app, drive, settle, tmp_path: Path):
    bad = tmp_path / "partners.csv"
    bad.write_bytes(b"name,kind\nDr. A\x00,primary care\n")
    text, classes = check(app, drive, settle, str(bad))
    assert "Checking" not in text
    assert "NUL" in text and "partners.csv" in text and "line 2" in text
    assert "error-text" in classes


@pytest.mark.parametrize("kind", ["folder", "missing", "undecodable-utf16-odd"])
def test_other_unreadable_paths_end_in_a_visible_error(app, drive, settle, tmp_path: Path,
                                                       kind: str):
    if kind == "folder":
        path = tmp_path
    elif kind == "missing":
        path = tmp_path / "nowhere.csv"
    else:
        path = tmp_path / "odd.csv"
        path.write_bytes(b"\xff\xfen\x00a\x00m\x00")  # a UTF-16 BOM and an odd byte count
    text, classes = check(app, drive, settle, str(path))
    assert "Checking" not in text and text.strip()
    assert "error-text" in classes or "warning-text" in classes, text


def test_an_unexpected_failure_of_the_check_is_shown_too(app, drive, settle, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    def broken(*_args: Any, **_kw: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("outcomes.importing.csvfile.read_table", broken)
    good = tmp_path / "partners.csv"
    good.write_text("name,kind\nDr. A,primary care\n")
    text, classes = check(app, drive, settle, str(good))
    assert "RuntimeError: disk on fire" in text and "Nothing was written" in text
    assert "error-text" in classes
