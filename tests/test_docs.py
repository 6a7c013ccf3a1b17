"""Docs match the code: every command and every import column is documented."""

from __future__ import annotations

from pathlib import Path

import click
import typer.main

from outcomes.cli import app
from outcomes.importing.kinds import KINDS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def all_docs() -> str:
    return "\n".join(p.read_text() for p in DOCS.glob("*.md"))


def command_paths(group: click.Group, prefix: str = "outcomes") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group) or hasattr(command, "commands"):
            paths += command_paths(command, path)
        else:
            paths.append(path)
    return paths


def test_every_command_is_documented() -> None:
    text = all_docs()
    commands = command_paths(typer.main.get_command(app))  # type: ignore[arg-type]
    assert len(commands) >= 12
    missing = [c for c in commands if f"`{c}" not in text]
    assert missing == []


def test_every_import_column_and_alias_is_documented() -> None:
    text = (DOCS / "import.md").read_text()
    for name, kind in KINDS.items():
        assert f"## {name}" in text
        for column in kind.columns:
            assert f"`{column.name}`" in text
            for alias in column.aliases:
                assert f"`{alias}`" in text
