"""Typing into a form the way a user does: focus the field, one key per character."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    box = pilot.app.screen.query_one(selector, Input)
    box.focus()
    box.cursor_position = len(box.value)
    await pilot.pause()
    for ch in text:
        await pilot.press("space" if ch == " " else ch)
