"""The ``outcomes`` command line. With no subcommand it opens the dashboard.

Exit codes: 0 success, 1 an error the user can fix (one sentence on stderr), 2 bad usage.

This module stays cheap to import: opening the dashboard (``outcomes`` or ``outcomes --db X``)
checks the file with the standard library and starts the front end without loading typer,
pydantic or sqlite-utils; every other command builds the typer app in ``cli.app``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from outcomes.errors import OutcomesError

_NOT_DASHBOARD = object()


def __getattr__(name: str) -> Any:
    if name == "app":  # ``from outcomes.cli import app`` (tests, docs checks)
        from outcomes.cli.root import app

        return app
    raise AttributeError(name)


def dashboard_only(args: list[str]) -> Path | object | None:
    """The --db path (or None for the default) when ``args`` only open the dashboard, else a
    sentinel meaning: let typer handle them."""
    path: str | None = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--debug":
            continue
        if arg == "--db" and rest:
            path = rest.pop(0)
        elif arg.startswith("--db="):
            path = arg.removeprefix("--db=")
        else:
            return _NOT_DASHBOARD
    return Path(path).expanduser() if path else None


def open_dashboard_fast(path: Path | None) -> None:
    """Check the file and start the dashboard; only a file that must be created or upgraded
    first goes through the full database layer."""
    import gc
    import importlib

    # Loading Textual and our modules makes long-lived objects only (classes, functions,
    # styles): young collections over them are wasted work before the first screen (a few ms
    # of CPU); run_path pauses the collector again until that screen is complete.
    gc.disable()
    try:
        from outcomes.paths import default_db_path
        from outcomes.store.database import check_file, needs_upgrade, open_db

        target = path or default_db_path()
        if needs_upgrade(check_file(target)):
            open_db(target).close()  # also secures the files and checks integrity
        else:
            from outcomes.store.database import prepare_existing

            prepare_existing(target)
        from outcomes.dates import today
        from outcomes.reports.first_screen import start_first_screen

        # Before the front end loads: its first reads run on the other core meanwhile.
        first_screen = start_first_screen(target, today())
        dashboard = importlib.import_module("outcomes_tui.app")
    finally:
        # What the imports made lives as long as the process: out of the collector's sight.
        # Re-enabled over them, the first young collection walked all ~60,000 (13-17 ms of
        # the first screen), and later ones promoted them to be walked again.
        gc.freeze()
        gc.enable()
    dashboard.run_path(target, first_screen)


class _WarningLines:
    """Warnings from the core (logger 'outcomes': a folder others can read...) printed as
    'Warning: ...' lines on stderr, before any screen takes over the terminal. Installed for
    the length of one main() call only, and writing to the sys.stderr of the moment, so a test
    that calls main() leaves no handler behind on a closed stream."""

    def __enter__(self) -> None:
        import logging

        class Lines(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                print(f"Warning: {record.getMessage()}", file=sys.stderr)

        self.logger = logging.getLogger("outcomes")
        self.handler = Lines(logging.WARNING)
        self.logger.addHandler(self.handler)
        if self.logger.getEffectiveLevel() > logging.WARNING:
            self.logger.setLevel(logging.WARNING)

    def __exit__(self, *_exc: object) -> None:
        self.logger.removeHandler(self.handler)


def _sqlite_message(exc: BaseException) -> str | None:
    """A plain sentence for SQLite errors that reach the top (lock timeout, damaged file)."""
    if type(exc).__module__ != "sqlite3":
        return None
    from outcomes.store.database import busy_message, damaged_message, is_busy, is_damaged

    if is_busy(exc):
        return busy_message()
    if is_damaged(exc):
        return damaged_message(None, f"SQLite: {exc}")
    return None


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: turns domain errors into one line on stderr and exit 1."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    with _WarningLines():
        _run(args, debug)


def _run(args: list[str], debug: bool) -> None:
    try:
        target = dashboard_only(args)
        if target is _NOT_DASHBOARD:
            from outcomes.lean_imports import import_storage_lean

            import_storage_lean()  # before the commands' modules import sqlite-utils
            from outcomes.cli.root import app

            app(args=args, prog_name="outcomes")
        else:
            open_dashboard_fast(target)  # type: ignore[arg-type]
    except OutcomesError as exc:
        if debug:
            raise
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("Interrupted; nothing more was written.", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
        if debug:
            raise
        plain = _sqlite_message(exc)
        if plain is not None:
            print(f"Error: {plain}", file=sys.stderr)
            sys.exit(1)
        print(f"Internal error ({type(exc).__name__}: {exc}). Run again with --debug for "
              "details, and report it.", file=sys.stderr)
        sys.exit(1)
