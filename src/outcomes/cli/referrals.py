"""Commands for referrals: inbound referrals (episodes of care) through their statuses, referrals
the clinic sends out, and what was sent to partners about them.

PARTNER arguments accept an NPI, a partner id, or an unambiguous (part of a) name.

One module because the referral, outbound and communication commands share their option
names (``REFERRAL_OPTIONS``, used to word errors) and are registered together.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from outcomes.cli.common import (
    PARTNER_HELP,
    date_option,
    find_partner,
    listing,
    open_database,
    options_named,
    print_json,
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
    "onset_date": "--onset", "chief_complaint": "--complaint", "history": "--history",
    "findings": "--findings", "treatment": "--treatment", "plan": "--plan",
    "plan_frequency": "--frequency", "plan_duration": "--duration",
    "plan_interventions": "--interventions", "referral_question": "--question",
    "precautions": "--precautions", "physician_follow_up": "--follow-up",
    "poc_sent_date": "--poc-sent", "poc_certified_date": "--poc-certified",
    "poc_certified_by": "--certified-by", "goal": "--goal", "goal_status": "--goal-status",
    "target_date": "--goal", "status": "--status",
    "procedure": "--procedure", "surgical": "--surgical", "instrument": "--measure",
}

PROCEDURE_HELP = ("Surgical procedure: total knee arthroplasty (TKA), total hip arthroplasty "
                  "(THA), ACL reconstruction, rotator cuff repair, spinal fusion... "
                  "(docs/reports.md, 'By condition').")
SURGICAL_HELP = "yes or no: the episode follows surgery (a --procedure implies yes)."
MEASURE_HELP = ("The episode's primary outcome measure (odi, ndi, koos_jr, lefs, quickdash...); "
                "default: by body region.")



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
    procedure: str | None = typer.Option(None, "--procedure", help=PROCEDURE_HELP),
    surgical: str | None = typer.Option(None, "--surgical", help=SURGICAL_HELP),
    measure: str | None = typer.Option(None, "--measure", help=MEASURE_HELP),
) -> None:
    """Record an inbound referral (a new episode of care).

    Example: outcomes referrals add E1001 --patient MRN123 --partner Hale --date 2026-03-02
    --region knee --dx Z96.651 --procedure TKA
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
            "first_visit_date": first_visit, "chief_complaint": complaint,
            "procedure": procedure, "surgical": surgical, "instrument": measure})
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
    onset: str | None = typer.Option(None, "--onset", help="Date of onset."),
    complaint: str | None = typer.Option(None, "--complaint", help="Chief complaint."),
    history: str | None = typer.Option(None, "--history", help="Relevant history."),
    findings: str | None = typer.Option(None, "--findings", help="Objective findings."),
    treatment: str | None = typer.Option(None, "--treatment", help="Treatment given."),
    plan: str | None = typer.Option(None, "--plan", help="Plan of care (summary)."),
    frequency: str | None = typer.Option(None, "--frequency", help="Plan: e.g. 2x/week."),
    duration: str | None = typer.Option(None, "--duration", help="Plan: e.g. 6 weeks."),
    interventions: str | None = typer.Option(None, "--interventions",
                                             help="Plan: the interventions."),
    question: str | None = typer.Option(None, "--question",
                                        help="The referral question the physician asked."),
    precautions: str | None = typer.Option(None, "--precautions"),
    follow_up: str | None = typer.Option(None, "--follow-up",
                                         help="The patient's next visit to the physician."),
    poc_sent: str | None = typer.Option(None, "--poc-sent",
                                        help="Date the plan of care was sent to the physician."),
    poc_certified: str | None = typer.Option(
        None, "--poc-certified", help="Date the plan of care was certified (stops the alert)."),
    certified_by: str | None = typer.Option(
        None, "--certified-by", help="signed (the signed plan came back) or order on file."),
    goal: list[str] = typer.Option(
        [], "--goal", help="Add a goal: TEXT, TEXT|TARGET DATE or TEXT|TARGET DATE|STATUS. "
        "Repeat for more."),
    goal_status: list[str] = typer.Option(
        [], "--goal-status", help="Change a goal's status: GOAL_ID=met (open, met, partly met, "
        "not met); ids in `referrals show`."),
    procedure: str | None = typer.Option(None, "--procedure", help=PROCEDURE_HELP),
    surgical: str | None = typer.Option(None, "--surgical", help=SURGICAL_HELP),
    measure: str | None = typer.Option(None, "--measure", help=MEASURE_HELP),
) -> None:
    """Move a referral along (with its dates), end it with a reason, or record its clinical
    content (what letters to the referrer are made from). Text is stored as typed.

    Examples:

      outcomes referrals update E1001 --status evaluated --first-visit 2026-03-06

      outcomes referrals update E1002 --status "not scheduled" --reason "Could not reach"

      outcomes referrals update E1001 --findings "Flexion 50% limited" --frequency 2x/week
      --duration "6 weeks" --goal "Sit 60 minutes|2026-04-15"

      outcomes referrals update E1001 --poc-certified 2026-03-20 --certified-by signed
    """
    from outcomes.network.clinical import parse_goal, parse_goal_status, update_episode

    db = open_database(ctx)
    with options_named(REFERRAL_OPTIONS):
        goals = [parse_goal(g) for g in goal]
        statuses = dict(parse_goal_status(g) for g in goal_status)
        saved = update_episode(db, episode_id, {
            "status": status, "status_reason": reason, "scheduled_date": scheduled,
            "first_visit_date": first_visit, "discharge_date": discharge_date, "visits": visits,
            "discharge_reason": discharge_reason, "diagnosis": diagnosis, "body_region": region,
            "clinician": clinician, "procedure": procedure, "surgical": surgical,
            "instrument": measure,
            "partner_id": find_partner(db, partner)["id"] if partner else None}, {
            "onset_date": onset, "chief_complaint": complaint, "history": history,
            "findings": findings, "treatment": treatment, "plan": plan,
            "plan_frequency": frequency, "plan_duration": duration,
            "plan_interventions": interventions, "referral_question": question,
            "precautions": precautions, "physician_follow_up": follow_up,
            "poc_sent_date": poc_sent, "poc_certified_date": poc_certified,
            "poc_certified_by": certified_by}, goals=goals, goal_status=statuses,
            today=today_option(None))
    say(saved.message())


@referrals_app.command("show")
def referrals_show(
    ctx: typer.Context,
    episode_id: str = typer.Argument(..., help="Episode id."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show an episode's clinical content, goals (with their ids) and what is owed for it.

    Example: outcomes referrals show E1001
    """
    from outcomes.network.clinical import LABELS, get_clinical
    from outcomes.network.owed import owed_documents

    db = open_database(ctx)
    clinical = get_clinical(db, episode_id)
    owed = [asdict(o) for _pid, o in owed_documents(db, today_option(None),
                                                    episode_id=episode_id)]
    if json_out:
        print_json({"episode_id": episode_id, **clinical.values,
                    "goals": [asdict(g) for g in clinical.goals], "owed": owed})
        return
    for key, label in LABELS.items():
        value = clinical.get(key)
        say(f"{label}: {value if value not in (None, '') else '-'}")
    say("Goals:" if clinical.goals else "Goals: none recorded")
    for g in clinical.goals:
        say(f"  [{g.id}] {g.goal} (target {g.target_date or '-'}): "
            f"{g.status.replace('_', ' ')}")
    say("Owed: " + (", ".join(f"{o['document'].replace('_', ' ')} ({o['stage']})"
                              for o in owed) or "nothing"))


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
    question: str | None = typer.Option(None, "--question",
                                        help="The clinical question to be answered."),
) -> None:
    """Record that the clinic referred a patient to a partner, with the clinical rationale.

    Example: outcomes outbound add "Northwest Imaging" --episode E1001 --reason "MRI: suspected
    full-thickness rotator cuff tear"
    """
    from outcomes.network.outbound import record_outbound

    db = open_database(ctx)
    row = find_partner(db, partner)
    recorded = record_outbound(db, row["id"], {"reason": reason, "date": when,
                                               "episode_id": episode, "question": question},
                               today=today_option(None))
    say(recorded.message())


@outbound_app.command("update")
def outbound_update(
    ctx: typer.Context,
    outbound_id: int = typer.Argument(..., help="Outbound referral id (outcomes outbound list)."),
    status: str = typer.Option(..., "--status",
                               help="scheduled, seen, findings received or closed."),
    when: str | None = typer.Option(None, "--date", help="Date of the step (default today)."),
    findings: str | None = typer.Option(None, "--findings", help="What came back."),
) -> None:
    """Follow an outbound referral: sent -> scheduled -> seen -> findings received -> closed.

    Example: outcomes outbound update 12 --status "findings received" --findings "MRI: no tear"
    """
    from outcomes.network.outbound import update_outbound

    with options_named({"status": "--status", "date": "--date", "findings": "--findings"}):
        updated = update_outbound(open_database(ctx), outbound_id, status=status, when=when,
                                  findings=findings, today=today_option(None))
    say(updated.message())


@outbound_app.command("list")
def outbound_list(
    ctx: typer.Context,
    partner: str | None = typer.Option(None, "--partner", help=PARTNER_HELP),
    status: str | None = typer.Option(None, "--status"),
    open_only: bool = typer.Option(False, "--open", help="Only those not closed."),
    limit: int = typer.Option(200, "--limit", min=1),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List outbound referrals with their status, newest first.

    Example: outcomes outbound list --open
    """
    from outcomes.network.outbound import list_outbound

    db = open_database(ctx)
    rows = [asdict(r) for r in list_outbound(
        db, partner_id=find_partner(db, partner)["id"] if partner else None, status=status,
        open_only=open_only, limit=limit)]
    listing(rows, [("id", "id", 5), ("date", "sent", 10), ("partner", "partner", 24),
                  ("episode_id", "episode", 8), ("status", "status", 17),
                  ("reason", "reason", 0)], json_out)


@outbound_app.command("ledger")
def outbound_ledger(
    ctx: typer.Context,
    partner: str | None = typer.Option(None, "--partner", help=PARTNER_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The reciprocity ledger: referrals received from and sent to each partner, with the
    date of the last of each.

    Example: outcomes outbound ledger --partner Hale
    """
    from outcomes.network.outbound import reciprocity

    db = open_database(ctx)
    rows = [asdict(r) for r in reciprocity(
        db, partner_id=find_partner(db, partner)["id"] if partner else None)]
    listing(rows, [("partner", "partner", 28), ("received", "received", 8),
                  ("last_received", "last in", 10), ("sent", "sent", 5),
                  ("last_sent", "last out", 0)], json_out)


# --------------------------------------------------------------------------- communications


@communications_app.command("add")
def communications_add(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help=PARTNER_HELP),
    kind: str | None = typer.Option(
        None, "--kind", help="progress update, discharge summary, packet, letter, other "
        "(implied by --document)."),
    document: str | None = typer.Option(
        None, "--document", help="The document it was, when written outside the app: "
        "evaluation summary, progress note, discharge summary, outbound note."),
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
    with options_named({"document": "--document", "kind": "--kind"}):
        logged = log_communication(db, row["id"], {
            "episode_id": episode, "date": when, "kind": kind, "channel": channel,
            "note": note, "document": document}, today=today_option(None))
    say(logged.message())


@communications_app.command("list")
def communications_list(
    ctx: typer.Context,
    partner: str | None = typer.Option(None, "--partner", help=PARTNER_HELP),
    episode: str | None = typer.Option(None, "--episode"),
    limit: int = typer.Option(200, "--limit", min=1),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List communications with partners (made and sent), newest first.

    Example: outcomes communications list --partner Hale
    """
    from outcomes.network.communications import list_communications

    db = open_database(ctx)
    rows = [asdict(r) for r in list_communications(
        db, partner_id=find_partner(db, partner)["id"] if partner else None, episode_id=episode,
        limit=limit)]
    listing(rows, [("id", "id", 5), ("date", "date", 10), ("partner", "partner", 24),
                  ("kind", "kind", 17), ("status", "status", 5), ("channel", "channel", 7),
                  ("sent_date", "sent", 10), ("episode_id", "episode", 0)], json_out)


@communications_app.command("sent")
def communications_sent(
    ctx: typer.Context,
    communication_id: int = typer.Argument(..., help="Communication id (communications list)."),
    channel: str = typer.Option(..., "--channel", help="fax, email, mail, portal, hand..."),
    when: str | None = typer.Option(None, "--date", help="Date sent (default today)."),
) -> None:
    """Record that a letter or packet the app made was sent, on a channel and a date. Only a
    sent document clears its owed-document alert.

    Example: outcomes communications sent 42 --channel fax --date 2026-03-07
    """
    from outcomes.network.communications import mark_sent

    with options_named({"channel": "--channel", "date": "--date"}):
        sent = mark_sent(open_database(ctx), communication_id, channel=channel, when=when,
                         today=today_option(None))
    say(sent.message())


@communications_app.command("export")
def communications_export(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="CSV (or JSON) file to write (owner-only)."),
    partner: str | None = typer.Option(None, "--partner", help=PARTNER_HELP),
    episode: str | None = typer.Option(None, "--episode"),
    json_out: bool = typer.Option(False, "--json", help="Write JSON instead of CSV."),
) -> None:
    """Export the communication log (kind, document, channel, made and sent dates, SHA-256 of
    each file) as CSV, or JSON with --json.

    Example: outcomes communications export --out communications.csv
    """
    from outcomes.network.communications import export_csv, export_json

    db = open_database(ctx)
    export = export_json if json_out else export_csv
    n = export(db, out, partner_id=find_partner(db, partner)["id"] if partner else None,
               episode_id=episode)
    say(f"Wrote {n} communications to {out}.")



def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(referrals_app, name="referrals")
    app.add_typer(outbound_app, name="outbound")
    app.add_typer(communications_app, name="communications")
