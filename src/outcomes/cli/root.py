"""The typer application: every subcommand, registered from the modules beside this one."""

from __future__ import annotations

from pathlib import Path

import typer

from outcomes import __version__
from outcomes.cli.common import State

app = typer.Typer(
    name="outcomes",
    help=(
        "Referral tracking, outcome measures, NPS and evidence packets for rehab practices.\n\n"
        "Run with no command to open the dashboard.\n\n"
        "Examples:\n\n"
        "  outcomes --db clinic.db init\n\n"
        "  outcomes demo --no-tui\n\n"
        "  outcomes import referrals referrals.csv --dry-run\n\n"
        "  outcomes score odi 2 3 1 0 2 - 1 2 3 1"
    ),
    invoke_without_command=True,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"outcomes {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Path | None = typer.Option(
        None, "--db", metavar="PATH",
        help="Database file. Default: $OUTCOMES_DB, else outcomes.db in your user data folder.",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback when something fails."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    ctx.obj = State(db_path=db, debug=debug)
    if ctx.invoked_subcommand is None:
        open_dashboard(ctx.obj)


def open_dashboard(state: State) -> None:
    """Start the Textual dashboard on the chosen database.

    The core never imports the front end at module level (a test checks it); this is the one
    place that starts it, looked up by name at run time.
    """
    import importlib
    import sys

    db = state.db()  # open (and check) before the screen takes over the terminal
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Without a terminal the dashboard would wait forever for keys nobody can type (a
        # script or a pipe): say so and leave.
        from outcomes.errors import OutcomesError

        raise OutcomesError("The dashboard needs a terminal (stdin and stdout are not one); "
                            f"open it from a terminal with: outcomes --db "
                            f"{state.resolved_path()}")
    tui = importlib.import_module("outcomes_tui.app")
    tui.run(db, state.resolved_path())


from outcomes.cli import (  # noqa: E402  (register subcommands)
    audit,
    data,
    group,
    measures,
    models,
    referrals,
    relationships,
    reports,
)

for module in (data, measures, relationships, referrals, reports, audit, group, models):
    module.register(app)
