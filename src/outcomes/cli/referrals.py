"""Commands for referrals: inbound referrals (episodes of care) through their statuses, referrals
the clinic sends out, and what was sent to partners about them.

PARTNER arguments accept an NPI, a partner id, or an unambiguous (part of a) name.
"""

from __future__ import annotations

from dataclasses import asdict

import typer

from outcomes.cli.common import (
    PARTNER_HELP,
    date_option,
    find_partner,
    listing,
    open_database,
    options_named,
    say,
    today_option,
)

referrals_app = typer.Typer(help="Inbound referrals (episodes of care): add, update, list.",
                            no_args_is_help=True)
outbound_app = typer.Typer(help="Referrals the clinic sends to partners.", no_args_is_help=True)
communications_app = typer.Typer(
    help="Updates, discharge summaries and packets sent to partners.", no_args_is_help=True)

REFERRAL_OPTIONS = {
    "status_reason": "--reason", "first_visit_date": "--first-visit",
    "discharge_date": "--discharge-date", "scheduled_date": "--scheduled",
    "referral_date": "--date", "body_region": "--region", "diagnosis": "--diagnosis",
    "visits": "--visits", "discharge_reason": "--discharge-reason", "id": "EPISODE_ID",
    "record_number": "--patient", "birth_date": "--birth-date",
}



# --------------------------------------------------------------------------- referrals


@referrals_app.command("add")
def referrals_add(
    ctx: typer.Context,
    episode_id: str = typer.Argument(..., help="The clinic's episode id (unique)."),
    patient: str = typer.Option(..., "--patient", help="Patient record number (MRN)."),
    partner: str | None = typer.Option(None, "--partner", help=PARTNER_HELP +
                                       " Omit for a self-referral."),
    referral_date: str = typer.Option(..., "--date", help="Referral date (YYYY-MM-DD)."),
    region: str = typer.Option(..., "--region",
                               help="Body region: low back, neck, shoulder, knee..."),
    diagnosis: str | None = typer.Option(None, "--diagnosis", "--dx", help="ICD-10-CM code."),
    clinician: str | None = typer.Option(None, "--clinician"),
    clinic: str | None = typer.Option(None, "--clinic"),
    scheduled: str | None = typer.Option(None, "--scheduled", help="Scheduled visit date."),
    first_visit: str | None = typer.Option(None, "--first-visit", help="First visit date."),
    complaint: str | None = typer.Option(None, "--complaint", help="Chief complaint."),
    patient_name: str | None = typer.Option(None, "--patient-name", help="Patient's name."),
    birth_date: str | None = typer.Option(None, "--birth-date", help="Date of birth."),
) -> None:
    """Record an inbound referral (a new episode of care).

    Example: outcomes referrals add E1001 --patient MRN123 --partner Hale --date 2026-03-02
    --region knee --dx M17.11
    """
    from outcomes.network.referrals import record_referral

    db = open_database(ctx)
    with options_named(REFERRAL_OPTIONS):
        saved = record_referral(db, {
            "id": episode_id, "patient_record_number": patient, "patient_name": patient_name,
            "birth_date": birth_date,
            "partner_id": find_partner(db, partner)["id"] if partner else None,
            "referral_date": referral_date, "body_region": region, "diagnosis": diagnosis,
            "clinician": clinician, "clinic": clinic, "scheduled_date": scheduled,
            "first_visit_date": first_visit, "chief_complaint": complaint})
    say(saved.message())


@referrals_app.command("update")
def referrals_update(
    ctx: typer.Context,
    episode_id: str = typer.Argument(..., help="Episode id."),
    status: str | None = typer.Option(
        None, "--status",
        help="received -> scheduled -> evaluated -> in care -> discharged, or not scheduled / "
             "cancelled (needs --reason)."),
    reason: str | None = typer.Option(None, "--reason",
                                      help="Why it was not scheduled or was cancelled."),
    scheduled: str | None = typer.Option(None, "--scheduled", help="Scheduled visit date."),
    first_visit: str | None = typer.Option(None, "--first-visit", help="First visit date."),
    discharge_date: str | None = typer.Option(None, "--discharge-date"),
    visits: int | None = typer.Option(None, "--visits", min=0),
    discharge_reason: str | None = typer.Option(None, "--discharge-reason",
                                                help="goals met, self discharged, plateau..."),
    diagnosis: str | None = typer.Option(None, "--diagnosis", "--dx"),
    region: str | None = typer.Option(None, "--region"),
    partner: str | None = typer.Option(None, "--partner", help=PARTNER_HELP),
    clinician: str | None = typer.Option(None, "--clinician"),
) -> None:
    """Move a referral along (with its dates) or end it with a reason.

    Examples:

      outcomes referrals update E1001 --status evaluated --first-visit 2026-03-06

      outcomes referrals update E1002 --status "not scheduled" --reason "Could not reach"
    """
    from outcomes.network.referrals import update_referral

    db = open_database(ctx)
    with options_named(REFERRAL_OPTIONS):
        saved = update_referral(db, episode_id, {
            "status": status, "status_reason": reason, "scheduled_date": scheduled,
            "first_visit_date": first_visit, "discharge_date": discharge_date, "visits": visits,
            "discharge_reason": discharge_reason, "diagnosis": diagnosis, "body_region": region,
            "clinician": clinician,
            "partner_id": find_partner(db, partner)["id"] if partner else None})
    say(saved.message())


@referrals_app.command("reopen")
def referrals_reopen(
    ctx: typer.Context,
    episode_id: str = typer.Argument(..., help="Episode id."),
    reason: str = typer.Option(..., "--reason", help="Why it is reopened (kept in the audit)."),
) -> None:
    """Reopen a discharged, not-scheduled or cancelled referral; its status follows its dates.

    Example: outcomes referrals reopen E1002 --reason "Patient called back to book"
    """
    from outcomes.network.referrals import reopen

    say(reopen(open_database(ctx), episode_id, reason=reason).message())


@referrals_app.command("list")
def referrals_list(
    ctx: typer.Context,
    partner: str | None = typer.Option(None, "--partner", help=PARTNER_HELP),
    status: str | None = typer.Option(None, "--status"),
    since: str | None = typer.Option(None, "--since", help="Referred on or after this date."),
    limit: int = typer.Option(200, "--limit", min=1),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List inbound referrals, newest first (no patient names).

    Example: outcomes referrals list --partner Hale --since 2026-01-01
    """
    from outcomes.network.referrals import list_referrals

    db = open_database(ctx)
    rows = [asdict(r) for r in list_referrals(
        db, partner_id=find_partner(db, partner)["id"] if partner else None, status=status,
        since=date_option(since, "--since"), limit=limit)]
    listing(rows, [("episode_id", "episode", 8), ("referral_date", "referred", 10),
                  ("partner", "partner", 24), ("body_region", "region", 10),
                  ("diagnosis", "dx", 8), ("status", "status", 0)], json_out)


# --------------------------------------------------------------------------- outbound


@outbound_app.command("add")
def outbound_add(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help=PARTNER_HELP),
    reason: str = typer.Option(..., "--reason", help="The clinical rationale (required)."),
    when: str | None = typer.Option(None, "--date", help="Date (default today)."),
    episode: str | None = typer.Option(None, "--episode", help="The patient's episode id."),
) -> None:
    """Record that the clinic referred a patient to a partner, with the clinical rationale.

    Example: outcomes outbound add "Northwest Imaging" --episode E1001 --reason "MRI: suspected
    full-thickness rotator cuff tear"
    """
    from outcomes.network.outbound import record_outbound

    db = open_database(ctx)
    row = find_partner(db, partner)
    recorded = record_outbound(db, row["id"], {"reason": reason, "date": when,
                                               "episode_id": episode}, today=today_option(None))
    say(recorded.message())


# --------------------------------------------------------------------------- communications


@communications_app.command("add")
def communications_add(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help=PARTNER_HELP),
    kind: str = typer.Option(..., "--kind",
                             help="progress update, discharge summary, packet, letter, other."),
    channel: str = typer.Option("fax", "--channel", help="fax, email, mail, portal, hand..."),
    when: str | None = typer.Option(None, "--date", help="Date sent (default today)."),
    episode: str | None = typer.Option(None, "--episode", help="The episode it is about."),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Log something sent to a partner, so the app knows which updates are still owed.

    Example: outcomes communications add Hale --kind "discharge summary" --episode E1001
    """
    from outcomes.network.communications import log_communication

    db = open_database(ctx)
    row = find_partner(db, partner)
    logged = log_communication(db, row["id"], {
        "episode_id": episode, "date": when, "kind": kind, "channel": channel, "note": note},
        today=today_option(None))
    say(logged.message())


@communications_app.command("list")
def communications_list(
    ctx: typer.Context,
    partner: str | None = typer.Option(None, "--partner", help=PARTNER_HELP),
    episode: str | None = typer.Option(None, "--episode"),
    limit: int = typer.Option(200, "--limit", min=1),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List communications sent to partners, newest first.

    Example: outcomes communications list --partner Hale
    """
    from outcomes.network.communications import list_communications

    db = open_database(ctx)
    rows = [asdict(r) for r in list_communications(
        db, partner_id=find_partner(db, partner)["id"] if partner else None, episode_id=episode,
        limit=limit)]
    listing(rows, [("date", "date", 10), ("partner", "partner", 24), ("kind", "kind", 17),
                  ("channel", "channel", 7), ("episode_id", "episode", 0)], json_out)



def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(referrals_app, name="referrals")
    app.add_typer(outbound_app, name="outbound")
    app.add_typer(communications_app, name="communications")
