"""The group edition's commands: ``outcomes sync`` and ``outcomes group scorecard|packet``.

The group database URL comes from ``--to``/``--pg`` or $OUTCOMES_GROUP_URL; put the password in
a PGPASSFILE (or ~/.pgpass), not in the URL, so that it never reaches the shell history. No
message prints the password (outcomes.group.pg.redact).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import typer

from outcomes.cli.common import date_option, echo_err, open_database, print_json, progress_bar

URL_ENV = "OUTCOMES_GROUP_URL"

group_app = typer.Typer(help="Reports across the clinics of a group (PostgreSQL).",
                        no_args_is_help=True)

PG = typer.Option(..., "--pg", envvar=URL_ENV, metavar="URL", show_envvar=True,
                  help="The group database, postgresql://user@host/dbname (password from "
                  "PGPASSFILE or ~/.pgpass).")
FROM = typer.Option(None, "--from", metavar="DATE",
                    help="First referral date (default: a year ago).")
TO = typer.Option(None, "--to", metavar="DATE", help="Last referral date (default: today).")


def sync_cmd(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", envvar=URL_ENV, metavar="URL", show_envvar=True,
                           help="The group database, postgresql://user@host/dbname (password "
                           "from PGPASSFILE or ~/.pgpass)."),
    secret_file: Path | None = typer.Option(
        None, "--secret-file", metavar="FILE",
        help="The group secret (same file at every clinic; default: "
        "$OUTCOMES_GROUP_SECRET_FILE)."),
    full: bool = typer.Option(False, "--full", help="First delete this clinic's rows from the "
                              "group database, then send everything."),
    batch_size: int = typer.Option(2000, "--batch-size", min=1, metavar="N",
                                   help="Changes per transaction."),
) -> None:
    """Send this clinic's changes since the last sync to the group database.

    Patients are de-identified (keyed hash of the record number, age band) unless the setting
    group_identified is true. Example: outcomes sync --to postgresql://clinic@group-db/outcomes
    """
    from outcomes.group.sync import forget_clinic, read_secret, sync

    db = open_database(ctx)
    secret = read_secret(secret_file)
    if full:
        deleted = forget_clinic(db, to, secret=secret)
        echo_err(f"Deleted {deleted} rows of this clinic from the group database.")
    with progress_bar("Syncing") as progress:
        result = sync(db, to, secret=secret, batch_size=batch_size, progress=progress)
    if result.batches:
        typer.echo(f"Sent {result.records} changed records of clinic {result.clinic_id} to "
                   f"{result.target} in {result.batches} batches.")
    else:
        typer.echo(f"{result.target} is up to date for clinic {result.clinic_id}.")


def _period(start: str | None, end: str | None) -> tuple[Any, Any]:
    from outcomes.dates import today
    from outcomes.reports.scorecard import check_period, default_period

    default_start, default_end = default_period(today())
    period = (date_option(start, "--from") or default_start,
              date_option(end, "--to") or default_end)
    check_period(*period)
    return period


def _min_n(ctx: typer.Context, value: int | None) -> int:
    if value is not None:
        return value
    from outcomes.store import settings

    return int(settings.get(open_database(ctx), "min_n"))


@group_app.command("scorecard")
def group_scorecard_cmd(
    ctx: typer.Context,
    pg: str = PG,
    start: str | None = FROM,
    end: str | None = TO,
    min_n: int | None = typer.Option(None, "--min-n", min=0,
                                     help="Small-group threshold (default: setting min_n)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The scorecard of every clinic of the group together, computed in PostgreSQL, with a
    per-clinic breakdown.  Example: outcomes group scorecard --pg URL --json"""
    from outcomes.cli.reports import _print_scorecard
    from outcomes.group.pg import connect
    from outcomes.group.reports import group_scorecard

    period = _period(start, end)
    threshold = _min_n(ctx, min_n)
    with connect(pg) as conn:
        card = group_scorecard(conn, *period, min_n=threshold)
    if json_out:
        print_json(card)
        return
    # The clinic scorecard's table, with the group's row named for what it is.
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        _print_scorecard(card)
        typer.echo("")
        typer.echo("Per clinic:")
        _print_scorecard({**card, "partners": card["clinics"]})
    typer.echo(table.getvalue().replace("(whole clinic)", "(all clinics) "), nl=False)


@group_app.command("packet")
def group_packet_cmd(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help="Partner NPI, group id, or an unambiguous name."),
    out: Path = typer.Option(..., "--out", help="Output file: .pdf, .html or .md."),
    pg: str = PG,
    start: str | None = FROM,
    end: str | None = TO,
) -> None:
    """The evidence packet of one partner's patients across the group's clinics.

    Example: outcomes group packet 1234567893 --pg URL --out hale-group.pdf
    """
    from outcomes.dates import today
    from outcomes.documents.packets import format_for, render
    from outcomes.errors import ValidationError
    from outcomes.group.packet import build_group_packet
    from outcomes.group.pg import connect
    from outcomes.group.reports import (
        group_scorecard,
        primary_cells,
        referrals_by_month,
        resolve_partner,
    )
    from outcomes.store import settings
    from outcomes.store.files import write_private_bytes

    fmt = format_for(out)
    if not out.parent.is_dir():
        raise ValidationError(f"The folder {out.parent} does not exist.")
    db = open_database(ctx)
    period = _period(start, end)
    with connect(pg) as conn:
        pid = resolve_partner(conn, partner)
        card = group_scorecard(conn, *period, min_n=0, partner_ids=[pid])
        per_month = referrals_by_month(conn, pid, *period)
        cells = primary_cells(conn, *period)
    card["packet_min_n"] = int(settings.get(db, "min_n"))
    name = str(settings.get(db, "group_name") or "") or "Our clinics"
    packet = build_group_packet(card, group_name=name,
                                contact=str(settings.get(db, "clinic_contact")), today=today(),
                                per_month=per_month, conditions=cells)
    write_private_bytes(out, render(packet, fmt))
    typer.echo(f"Wrote {out} for {packet.partner_name} ({card['partners'][0]['n_clinics']} "
               "clinics).")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("sync")(sync_cmd)
    app.add_typer(group_app, name="group")
