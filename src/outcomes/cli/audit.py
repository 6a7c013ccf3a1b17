"""`outcomes audit`: show, check and export the audit log (who wrote or copied out what, when)."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from outcomes.cli.common import date_option, echo_err, open_database, say
from outcomes.store.audit import Entry

if TYPE_CHECKING:
    from outcomes.store.database import Database

audit_app = typer.Typer(help="Show, verify and export the audit log.")

class Format(StrEnum):
    csv = "csv"
    json = "json"


def _select(ctx: typer.Context, since: str | None, entity: str | None,
            limit: int | None) -> tuple[Database, list[Entry]]:
    from outcomes.store import audit

    if limit is not None and limit < 1:
        raise typer.BadParameter("--limit must be 1 or more.")
    day = date_option(since, "--since")
    db = open_database(ctx)
    return db, audit.entries(db, since=day.isoformat() if day else None, entity=entity,
                             limit=limit)


@audit_app.command("list")
def list_(
    ctx: typer.Context,
    since: str | None = typer.Option(None, "--since", help="Only rows on or after this date."),
    entity: str | None = typer.Option(None, "--entity", help="Only rows about this table "
                                      "(partners, episodes, responses, settings, all...)."),
    limit: int = typer.Option(50, "--limit", help="The newest N matching rows."),
    json_out: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """List audit rows, oldest first.

    Example: outcomes audit list --since 2026-11-01 --entity partners
    """
    _db, rows = _select(ctx, since, entity, limit)
    if json_out:
        say(json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=True))
        return
    if not rows:
        say("No audit rows match.")
        return
    for r in rows:
        say(f"{r.id:>6}  {r.at[:19]}  {r.actor or '?':<12} {r.action:<8} "
                          f"{r.entity:<18} {r.detail}")


@audit_app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Check the hash chain of the audit log: finds a row deleted, inserted or altered outside
    the app. Exit code 1 when the chain is broken. Note the head hash it prints: a log rewritten
    from some row onwards is found by comparing with it.

    Example: outcomes audit verify
    """
    from outcomes.store import audit

    verdict = audit.verify(open_database(ctx))
    if verdict.ok:
        say(f"Audit log intact: {verdict.rows} rows, chain head {verdict.head}.")
        return
    for problem in verdict.problems[:50]:
        echo_err(f"  {problem}")
    more = len(verdict.problems) - 50
    if more > 0:
        echo_err(f"  ... and {more} more.")
    echo_err(f"Audit log broken: {len(verdict.problems)} problems in {verdict.rows} rows. "
             "Compare with a backup (outcomes --db BACKUP.db audit list) to see what changed.")
    raise typer.Exit(1)


@audit_app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", "-o", help="File to write (created readable by you "
                             "only).", dir_okay=False),
    fmt: Format = typer.Option(Format.csv, "--format", "-f", help="csv or json."),
    since: str | None = typer.Option(None, "--since", help="Only rows on or after this date."),
    entity: str | None = typer.Option(None, "--entity", help="Only rows about this table."),
) -> None:
    """Write the audit log (with its hashes) to a private file, as CSV or JSON. The export is
    itself logged.

    Example: outcomes audit export -o audit-2026.csv --since 2026-01-01
    """
    from outcomes.importing.csvfile import neutralise
    from outcomes.store import audit
    from outcomes.store.database import transaction
    from outcomes.store.files import write_private_text

    db, rows = _select(ctx, since, entity, None)
    if fmt is Format.json:
        text = json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=False) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(audit.COLUMNS)
        for r in rows:
            writer.writerow([neutralise(v) if v is not None else ""
                             for v in r.as_dict().values()])
        text = buffer.getvalue()
    with transaction(db):  # logged and written together, or neither
        audit.log(db, "export", "audit_log", format=fmt.value, file=str(out.resolve()),
                  rows=len(rows))
        write_private_text(out, text)
    echo_err(f"Wrote {len(rows)} audit rows to {out}.")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
