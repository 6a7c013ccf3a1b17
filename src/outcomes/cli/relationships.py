"""Commands for the relationships: partners and their stages, touchpoints, alerts, prospects.

PARTNER arguments accept an NPI, a partner id, or an unambiguous (part of a) name.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from outcomes.cli.common import (
    PARTNER_HELP,
    date_option,
    echo_err,
    find_partner,
    listing,
    open_database,
    print_json,
    progress_bar,
    say,
    today_option,
)

partners_app = typer.Typer(help="Add, change, list and show referral partners.",
                           no_args_is_help=True)
touchpoints_app = typer.Typer(help="Contacts with partners, including gifts and meals.",
                              no_args_is_help=True)
prospects_app = typer.Typer(help="Find new partners in the CMS NPPES file.",
                            no_args_is_help=True)


# The option behind each field the core may refuse, so errors name what to type.
# --------------------------------------------------------------------------- partners


@partners_app.command("add")
def partners_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Name, e.g. \"Dr. Ana Lee\" or a firm's name."),
    kind: str = typer.Option(..., "--kind", "-k",
                             help="Partner kind (synonyms such as PCP, DC, ortho accepted)."),
    npi: str | None = typer.Option(None, "--npi", help="10-digit NPI (none for attorneys)."),
    organization: str | None = typer.Option(None, "--org", "--organization"),
    phone: str | None = typer.Option(None, "--phone"),
    fax: str | None = typer.Option(None, "--fax"),
    email: str | None = typer.Option(None, "--email"),
    address: str | None = typer.Option(None, "--address"),
    city: str | None = typer.Option(None, "--city"),
    state_: str | None = typer.Option(None, "--state", help="Two-letter state code."),
    zip_: str | None = typer.Option(None, "--zip"),
    preferred_contact: str | None = typer.Option(None, "--preferred-contact",
                                                 help="fax, email, mail, portal, phone..."),
    stage: str | None = typer.Option(None, "--stage",
                                     help="Your choice of stage; omit to let the app suggest."),
    tag: list[str] = typer.Option([], "--tag", help="A tag; repeat for several."),
    notes: str | None = typer.Option(None, "--notes"),
) -> None:
    """Add a partner. An NPI already on file is an error.

    Example: outcomes partners add "Dr. Ana Lee" --kind PCP --npi 1234567893 --fax 503-555-0100
    """
    from outcomes.network.partners import add_partner

    result = add_partner(open_database(ctx), {
        "name": name, "kind": kind, "npi": npi, "organization": organization, "phone": phone,
        "fax": fax, "email": email, "address": address, "city": city, "state": state_,
        "zip": zip_, "preferred_contact": preferred_contact, "stage": stage, "tags": tag,
        "notes": notes})
    say(f"Added partner {name.strip()} (id {result.id}).")


@partners_app.command("edit")
def partners_edit(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help=PARTNER_HELP),
    name: str | None = typer.Option(None, "--name"),
    kind: str | None = typer.Option(None, "--kind", "-k"),
    npi: str | None = typer.Option(None, "--npi"),
    organization: str | None = typer.Option(None, "--org", "--organization"),
    phone: str | None = typer.Option(None, "--phone"),
    fax: str | None = typer.Option(None, "--fax"),
    email: str | None = typer.Option(None, "--email"),
    address: str | None = typer.Option(None, "--address"),
    city: str | None = typer.Option(None, "--city"),
    state_: str | None = typer.Option(None, "--state"),
    zip_: str | None = typer.Option(None, "--zip"),
    preferred_contact: str | None = typer.Option(None, "--preferred-contact"),
    stage: str | None = typer.Option(
        None, "--stage",
        help="Set the stage (your choice wins over the suggestion); 'auto' hands it back."),
    tag: list[str] | None = typer.Option(None, "--tag", help="Replace the tags; repeatable."),
    notes: str | None = typer.Option(None, "--notes"),
    today_: str | None = typer.Option(None, "--today", help="Date for the suggestion."),
) -> None:
    """Change a partner's fields. Only the options given change.

    Example: outcomes partners edit 1234567893 --phone "(503) 555-0199" --stage mature
    """
    from outcomes.network.partners import change_partner


    db = open_database(ctx)
    row = find_partner(db, partner)
    # Only the options given change (an option left out is None, which the core would clear).
    changes = {k: v for k, v in {
        "name": name, "kind": kind, "npi": npi, "organization": organization, "phone": phone,
        "fax": fax, "email": email, "address": address, "city": city, "state": state_,
        "zip": zip_, "preferred_contact": preferred_contact, "tags": tag,
        "notes": notes, "stage": stage}.items() if v is not None}
    changed = change_partner(db, row["id"], changes, today=today_option(today_))
    if changed:
        say(f"Updated {row['name']} (id {row['id']}): {', '.join(sorted(changed))}.")
    else:
        say(f"Nothing changed for {row['name']} (id {row['id']}).")


@partners_app.command("list")
def partners_list(
    ctx: typer.Context,
    kind: str | None = typer.Option(None, "--kind", "-k", help="Only this kind."),
    stage: str | None = typer.Option(None, "--stage", help="Only this stage."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List partners with their stage and referral counts.

    Example: outcomes partners list --kind "orthopedic surgeon" --stage mature --json
    """
    from outcomes.network.partners import list_partners

    rows = [asdict(r) for r in list_partners(open_database(ctx), kind=kind, stage=stage)]
    listing(rows, [("id", "id", 5), ("name", "name", 28), ("kind", "kind", 20),
                  ("stage", "stage", 9), ("referrals_in", "in", 5), ("referrals_out", "out", 4),
                  ("last_touch", "last touch", 10), ("npi", "npi", 0)], json_out)
    echo_err(f"{len(rows)} partners.")


@partners_app.command("show")
def partners_show(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help=PARTNER_HELP),
    today_: str | None = typer.Option(None, "--today", help="Report as of this date."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one partner: contact, stage (yours vs suggested), ledger, last touch, referrals.

    Example: outcomes partners show "Hale"
    """
    from outcomes.network.partners import get_partner
    from outcomes.network.stages import partner_stats

    db = open_database(ctx)
    row = find_partner(db, partner)
    today = today_option(today_)
    stats = partner_stats(db, row["id"], today)
    full = get_partner(db, row["id"])
    if json_out:
        print_json({"partner": full, "stats": stats.as_dict()})
        return
    lines = [
        f"{full['name']}  (id {full['id']}, NPI {full['npi'] or 'none'})",
        f"  kind:          {full['kind']}" + (f", {full['organization']}"
                                               if full["organization"] else ""),
        f"  contact:       phone {full['phone'] or '-'}, fax {full['fax'] or '-'}, "
        f"email {full['email'] or '-'}"
        + (f", prefers {full['preferred_contact']}" if full["preferred_contact"] else ""),
        "  address:       " + (", ".join(x for x in (full["address"], full["city"],
                                                    full["state"], full["zip"]) if x) or "-"),
        f"  stage:         {stats.stage} ("
        + ("your choice" if stats.stage_source == "user" else "suggested")
        + f"); suggested from activity: {stats.suggested_stage}",
        f"  ledger:        {stats.ledger_in} referrals received, {stats.ledger_out} sent",
        f"  last 90 days:  {stats.referrals_last_90} referrals "
        f"({stats.referrals_per_30d_recent:g} per 30 days; baseline "
        f"{stats.referrals_per_30d_baseline:g})",
        "  conversion:    " + (f"{stats.conversion_rate:.0%} ({stats.converted} of "
                               f"{stats.closed} with an outcome)"
                               if stats.conversion_rate is not None else "-"),
        "  days to visit: " + (f"{stats.median_days_to_first_visit:g} (median)"
                               if stats.median_days_to_first_visit is not None else "-"),
        f"  last touch:    {stats.last_touch or 'never'}",
        f"  spend {today.year}:    ${stats.spend_this_year:,.2f}",
        "  updates owed:  " + (", ".join(stats.communications_owed) or "none"),
    ]
    for line in lines:
        say(line)


@partners_app.command("stages")
def partners_stages(
    ctx: typer.Context,
    apply: bool = typer.Option(False, "--apply",
                               help="Set the suggestion on partners whose stage you never chose."),
    today_: str | None = typer.Option(None, "--today", help="Suggest as of this date."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show each partner's suggested stage from activity; --apply stores the suggestions on
    partners whose stage is 'suggested' (a stage you chose is never changed).

    Example: outcomes partners stages --apply
    """
    from outcomes.network.stages import apply_stage_suggestions, stage_suggestions

    db = open_database(ctx)
    today = today_option(today_)
    if apply:
        changes = apply_stage_suggestions(db, today)
        for c in changes:
            say(f"{c.name}: {c.stage} -> {c.suggested}")
        echo_err(f"{len(changes)} stages updated.")
        return
    rows = [{"id": c.partner_id, "name": c.name, "stage": c.stage, "suggested": c.suggested,
             "stage_source": c.stage_source} for c in stage_suggestions(db, today)]
    listing(rows, [("id", "id", 5), ("name", "name", 28), ("stage", "stage", 9),
                  ("stage_source", "source", 9), ("suggested", "suggested", 0)], json_out)


# --------------------------------------------------------------------------- touchpoints


@touchpoints_app.command("add")
def touchpoints_add(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help=PARTNER_HELP),
    method: str = typer.Option(..., "--method", "-m",
                               help="phone, email, in person, letter, fax, lunch and learn, "
                                    "event, packet, other (call, visit... accepted)."),
    when: str | None = typer.Option(None, "--date", help="Date (default today)."),
    who: str | None = typer.Option(None, "--who", help="Who made the contact."),
    summary: str = typer.Option("", "--summary", "-s"),
    amount: float | None = typer.Option(None, "--amount", min=0,
                                        help="Dollar value of a gift or meal."),
    next_follow_up: str | None = typer.Option(None, "--next-follow-up"),
    confirm_over_limit: bool = typer.Option(
        False, "--confirm-over-limit",
        help="Record an amount that takes the year's gifts/meals over the limit."),
) -> None:
    """Log a touchpoint. With --amount, checks the partner's gift/meal total for the calendar
    year first: warns near the limit, refuses to cross it without --confirm-over-limit.

    Example: outcomes touchpoints add Okafor --method lunch --amount 85 --summary "Lunch and
    learn: ACL rehab"
    """
    from outcomes.network.touchpoints import SpendLimitExceeded, log_touchpoint

    db = open_database(ctx)
    row = find_partner(db, partner)
    try:
        logged = log_touchpoint(db, row["id"], {
            "date": when, "method": method, "who": who, "summary": summary, "amount": amount,
            "next_follow_up": next_follow_up}, today=today_option(None),
            confirm_over_limit=confirm_over_limit)
    except SpendLimitExceeded:
        echo_err("To record it anyway, run the same command with --confirm-over-limit.")
        raise
    if logged.warning:
        echo_err(f"Warning: {logged.warning}")
    say(logged.message())


@touchpoints_app.command("list")
def touchpoints_list(
    ctx: typer.Context,
    partner: str | None = typer.Option(None, "--partner", help=PARTNER_HELP),
    since: str | None = typer.Option(None, "--since", help="On or after this date."),
    limit: int = typer.Option(200, "--limit", min=1),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List touchpoints, newest first.

    Example: outcomes touchpoints list --partner Hale --json
    """
    from outcomes.network.touchpoints import list_touchpoints

    db = open_database(ctx)
    rows = [asdict(r) for r in list_touchpoints(
        db, partner_id=find_partner(db, partner)["id"] if partner else None,
        since=date_option(since, "--since"), limit=limit)]
    listing(rows, [("date", "date", 10), ("partner", "partner", 24), ("method", "method", 15),
                  ("amount", "amount", 7), ("summary", "summary", 0)], json_out)


# --------------------------------------------------------------------------- alerts


def alerts(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    today_: str | None = typer.Option(None, "--today", help="Compute as of YYYY-MM-DD."),
    kind: list[str] = typer.Option([], "--kind", help="Only these alert kinds (repeatable)."),
) -> None:
    """What needs doing now, most urgent first, each with the numbers behind it: relationships
    at risk (falling referrals, overdue touch), referrals not scheduled, patients getting worse,
    first referrals, updates owed, gift/meal spend, detractors.

    Example: outcomes alerts --json --today 2026-11-22
    """
    from outcomes.network.alerts import compute_alerts

    found = compute_alerts(open_database(ctx), today_option(today_))
    if kind:
        found = [a for a in found if a.kind in kind]
    if json_out:
        print_json([a.as_dict() for a in found])
        return
    if not found:
        say("No alerts.")
        return
    for a in found:
        say(f"[{a.kind}] {a.message}")
        say(f"    -> {a.suggested_action}")
    echo_err(f"{len(found)} alerts.")


# --------------------------------------------------------------------------- prospects


@prospects_app.command("import")
def prospects_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The NPPES npidata_pfile CSV.", dir_okay=False,
                                exists=True),
    state_: list[str] = typer.Option([], "--state", help="Practice state (repeatable)."),
    zip_: list[str] = typer.Option([], "--zip", help="Practice zip prefix (repeatable)."),
    kind: list[str] = typer.Option([], "--kind", help="Partner kind (repeatable)."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Add active providers from the CMS NPPES file as prospects, by practice state, zip prefix
    and kind (from their primary NUCC taxonomy). NPIs already on file are skipped.

    Example: outcomes prospects import npidata_pfile.csv --state OR --zip 972 --kind PCP
    --kind ortho
    """
    from outcomes.network.prospects import import_prospects

    db = open_database(ctx)
    with progress_bar("Reading NPPES") as progress:
        report = import_prospects(db, file, state_, zip_, kind, progress=progress)
    if json_out:
        print_json({"file": report.file, "rows": report.rows, "matched": report.matched,
                    "added": report.added, "skipped_existing": report.skipped_existing,
                    "skipped_deactivated": report.skipped_deactivated,
                    "skipped_invalid": report.skipped_invalid, "by_kind": dict(report.by_kind),
                    "invalid": report.invalid})
        return
    say(report.summary())
    for line in report.invalid[:5]:
        echo_err(f"  {line}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(partners_app, name="partners")
    app.add_typer(touchpoints_app, name="touchpoints")
    app.command()(alerts)
    app.add_typer(prospects_app, name="prospects")
