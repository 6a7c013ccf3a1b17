"""Commands that manage the database and move records in and out: init, demo, import, export."""

from __future__ import annotations

import json
import sys
from enum import Enum, StrEnum
from pathlib import Path

import typer

from outcomes.cli.common import echo_err, open_database, progress_bar, say, state
from outcomes.importing.kinds import KINDS

Kind = Enum("Kind", {name: name for name in KINDS}, type=str)  # type: ignore[misc]


class Format(StrEnum):
    csv = "csv"
    json = "json"


def init(ctx: typer.Context) -> None:
    """Create the database, or bring an existing one up to the current schema.

    Example: outcomes --db ~/clinic/outcomes.db init
    """
    from outcomes.store.database import SCHEMA_VERSION

    st = state(ctx)
    st.db()
    say(f"Database ready at {st.resolved_path()} (schema version {SCHEMA_VERSION}).")


def demo(
    ctx: typer.Context,
    no_tui: bool = typer.Option(False, "--no-tui", help="Fill the database, do not open it."),
    reset: bool = typer.Option(False, "--reset", help="Delete the demo data and make it anew."),
    seed: int = typer.Option(7, help="Random seed; the same seed gives the same clinic."),
) -> None:
    """Fill a database with a realistic demo clinic (dates relative to today), then open it.

    An existing demo database is reused unless --reset. A database holding real (non-demo)
    data is never touched.

    Example: outcomes --db demo.db demo --no-tui
    """
    from outcomes.demo import build_demo, holds_real_data, is_demo

    st = state(ctx)
    path = st.resolved_path()
    if reset and path.exists():
        from outcomes.store.database import check_file

        check_file(path)
        db = st.db()
        if holds_real_data(db):
            raise typer.BadParameter(f"{path} holds real data; --reset only deletes demo data.")
        db.close()
        st._db = None
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = st.db()
    if is_demo(db):
        echo_err(f"Reusing the demo database at {path} (make demo-reset to rebuild it).")
    else:
        counts = build_demo(db, seed=seed)
        echo_err(f"Demo clinic written to {path}: " +
                 ", ".join(f"{n:,} {k}" for k, n in counts.items()) + ".")
    if not no_tui:
        from outcomes.cli.root import open_dashboard

        open_dashboard(st)


def import_(
    ctx: typer.Context,
    kind: Kind = typer.Argument(..., help="Kind of record."),
    file: Path = typer.Argument(..., help="CSV file with a header row.", dir_okay=False),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, write nothing."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid",
        help="Import the valid rows; write the invalid ones to FILE.rejects.csv.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import a CSV file. Every row is checked first; any invalid row means nothing is written
    (unless --skip-invalid). Re-importing the same file changes nothing.

    Examples:

      outcomes import partners partners.csv --dry-run

      outcomes import referrals referrals.csv --skip-invalid
    """
    from outcomes.importing.importer import run_import

    db = open_database(ctx)
    with progress_bar(f"Importing {kind.value}") as progress:
        report = run_import(db, kind.value, file, dry_run=dry_run, skip_invalid=skip_invalid,
                            progress=progress)
    if report.written:
        from outcomes.store.database import refresh_statistics

        refresh_statistics(db)
    if json_out:
        say(json.dumps({
            "kind": report.kind, "file": report.file, "rows": report.rows,
            "added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "written": report.written, "rejects_file": report.rejects_file,
            "errors": [e.__dict__ for e in report.errors],
        }, indent=2))
    else:
        say(report.summary())
        for error in report.errors[:20]:
            echo_err(f"  {error}")


def export(
    ctx: typer.Context,
    kind: Kind = typer.Argument(..., help="Kind of record."),
    fmt: Format = typer.Option(Format.csv, "--format", "-f", help="csv or json."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to a file, not stdout."),
) -> None:
    """Export records in the same columns the importer reads. CSV cells that a spreadsheet
    would run as a formula are neutralised.

    Example: outcomes export referrals --format json -o referrals.json
    """
    from outcomes.importing.exporter import export_text
    from outcomes.store import audit
    from outcomes.store.database import transaction

    db = open_database(ctx)
    text = export_text(db, kind.value, fmt.value)
    # An export copies health information out: its audit row is committed before the data
    # leaves (for a file, in the same transaction as the write, so a failed write logs nothing).
    if out is None:
        audit.log(db, "export", kind.value, format=fmt.value, file="stdout")
        sys.stdout.write(text)
        return
    from outcomes.store.files import write_private_text

    with transaction(db):
        audit.log(db, "export", kind.value, format=fmt.value, file=str(out.resolve()))
        write_private_text(out, text)
    echo_err(f"Wrote {out}.")


def template(kind: Kind = typer.Argument(..., help="Kind of record.")) -> None:
    """Print a header-only CSV with every column the importer accepts for KIND.

    Example: outcomes template referrals > referrals.csv
    """
    from outcomes.importing.exporter import template as make_template

    sys.stdout.write(make_template(kind.value))


def backup(
    ctx: typer.Context,
    dest: Path = typer.Argument(..., help="New file to write the copy to."),
) -> None:
    """Make a consistent copy of the database, even while the dashboard or an import runs.
    The database is checked first, the copy is checked too, created readable by you only, and
    only given its name once complete. The backup is logged in the audit log.

    Example: outcomes backup ~/Backups/outcomes-2026-11-22.db
    """
    from outcomes.store.backup import backup as make_backup

    db = open_database(ctx)
    with progress_bar("Backing up") as progress:
        path = make_backup(db, dest, progress=progress)
    say(f"Backed up to {path}.")


def restore(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="A backup made by `outcomes backup`."),
) -> None:
    """Replace the database with a backup. The backup is checked first (integrity, that it is an
    outcomes database, its schema version); the replaced database is kept aside, even when it is
    damaged. Audit rows written after the backup was taken are carried over, and the restore is
    logged.

    Example: outcomes --db clinic.db restore ~/Backups/outcomes-2026-11-01.db
    """
    from outcomes.store.backup import restore as do_restore

    result = do_restore(state(ctx).resolved_path(), source)
    say(f"Restored from {result.restored_from}; the previous database is kept at "
        f"{result.kept_aside}" + (" (it was damaged)" if result.replaced_damaged else "")
        + f"; {result.carried_over} audit rows written since the backup were kept.")


settings_app = typer.Typer(help="Show or change clinic settings (name, contact, min_n, limits).")


@settings_app.command("show")
def settings_show(ctx: typer.Context) -> None:
    """Print every setting as JSON.  Example: outcomes settings show"""
    from outcomes.cli.common import print_json
    from outcomes.store import settings

    print_json(settings.get_all(open_database(ctx)))


@settings_app.command("set")
def settings_set(ctx: typer.Context, key: str, value: str) -> None:
    """Change a setting; VALUE is JSON or plain text.

    Example: outcomes settings set clinic_name "Riverside Physical Therapy"
    """
    from outcomes.store import settings

    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    settings.set_value(open_database(ctx), key, parsed)
    say(f"{key} = {json.dumps(parsed)}")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(demo)
    app.command("import")(import_)
    app.command()(export)
    app.command()(template)
    app.command()(backup)
    app.command()(restore)
    app.add_typer(settings_app, name="settings")
