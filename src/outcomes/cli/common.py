"""Shared pieces of the command line: the database option, output, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from outcomes.dates import parse_date
from outcomes.errors import ValidationError
from outcomes.text import one_line

if TYPE_CHECKING:
    from outcomes.store.database import Database


@dataclass
class State:
    """Options given before the subcommand (``outcomes --db X import ...``)."""

    db_path: Path | None = None
    debug: bool = False
    _db: Database | None = field(default=None, repr=False)

    def resolved_path(self) -> Path:
        from outcomes.paths import default_db_path

        return self.db_path or default_db_path()

    def db(self) -> Database:
        if self._db is None:
            from outcomes.store.database import open_db

            self._db = open_db(self.resolved_path())
        return self._db


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def open_database(ctx: typer.Context) -> Database:
    return state(ctx).db()


def print_json(data: Any) -> None:
    """JSON on stdout: indented for a person at a terminal, one line for a pipe (as ``gh`` and
    ``kubectl`` do; json's C encoder only writes unindented JSON, 4x faster on a scorecard of
    megabytes). json escapes C0 controls itself; C1 controls and bidi overrides in stored text
    are written as JSON escapes too, so the output is the same data and can never drive the
    terminal."""
    from outcomes.text import json_escaped

    indent = 2 if sys.stdout.isatty() else None
    typer.echo(json_escaped(json.dumps(data, indent=indent, default=str, ensure_ascii=False)))


def say(text: str) -> None:
    """Print text for a person: stored text may hold escape sequences (a window title, a
    hyperlink, a screen clear, right-to-left overrides); they are shown, never run."""
    from outcomes.text import printable

    typer.echo(printable(text, keep_newlines=True))


def date_option(value: str | None, field: str, *, allow_future: bool = False) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value, field=field, allow_future=allow_future)
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from None


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on a terminal, or None when output is piped."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}", BarColumn(), TaskProgressColumn(),
        TimeRemainingColumn(), console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def echo_err(message: str) -> None:
    from outcomes.text import printable

    typer.echo(printable(message, keep_newlines=True), err=True)


@contextmanager
def options_named(options: dict[str, str]) -> Iterator[None]:
    """Name the command-line option behind a field the core refused: the core says "the first
    visit date is required", the command line adds "(--first-visit)"."""
    try:
        yield
    except ValidationError as exc:
        option = options.get(exc.field or "")
        if option is None:
            raise
        raise ValidationError(f"{str(exc).rstrip('.')} ({option}).", field=exc.field) from None


PARTNER_HELP = "Partner: NPI, id, or an unambiguous part of the name."


def today_option(value: str | None) -> date:
    from outcomes.dates import today

    return date_option(value, "--today", allow_future=True) or today()


def find_partner(db: Any, ref: str) -> dict[str, Any]:
    from outcomes.network.partners import resolve_partner

    return resolve_partner(db, ref)


def listing(rows: list[dict[str, Any]], columns: list[tuple[str, str, int]],
            json_out: bool) -> None:
    """A listing as JSON (``--json``) or as an aligned table."""
    if json_out:
        print_json(rows)
    else:
        table(rows, columns)


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str, int]]) -> None:
    """Plain aligned text: (key, title, width) per column; the last column is not padded."""
    say("  ".join(title.ljust(width) for _, title, width in columns).rstrip())
    for row in rows:
        cells = []
        for key, _, width in columns:
            value = row.get(key)
            text = one_line("" if value is None else str(value), width or None)
            cells.append(text.ljust(width) if width else text)
        say("  ".join(cells).rstrip())
