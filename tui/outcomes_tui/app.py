"""Placeholder; replaced by the dashboard."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database


def run(db: Database, path: Path) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    class Outcomes(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            n = db.execute("select count(*) from episodes").fetchone()[0]
            yield Static(f"{n} episodes in {path}", markup=False)
            yield Footer()

    Outcomes().run()
