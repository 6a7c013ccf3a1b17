"""Commands for outcome measures and NPS: list instruments, score, store responses."""

from __future__ import annotations

from typing import Any

import typer

from outcomes.cli.common import (
    date_option,
    echo_err,
    open_database,
    options_named,
    print_json,
    say,
)


def instruments(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the instruments: id, name, items, score range and MCID.

    Example: outcomes instruments
    """
    from outcomes.measures import catalog

    rows: list[dict[str, Any]] = []
    for inst in catalog.instruments().values():
        for scale_id, scale in inst.scales.items():
            low, high = scale.score_min, scale.score_max
            threshold = scale.mcid
            rows.append({
                "id": inst.id, "scale": scale_id, "name": inst.name, "items": len(inst.items),
                "score_range": [low, high], "direction": scale.direction.value,
                "mcid": threshold.value if threshold else None,
                "mcid_unit": threshold.unit if threshold else None,
            })
    if json_out:
        print_json(rows)
        return
    say(f"{'id':<17}{'scale':<17}{'items':>5}  {'range':<11}{'MCID':<12}name")
    for r in rows:
        mcid = "" if r["mcid"] is None else (
            f"{r['mcid']:g}{'%' if r['mcid_unit'] == 'percent' else ' pts'}")
        rng = f"{r['score_range'][0]:g}-{r['score_range'][1]:g}"
        say(f"{r['id']:<17}{r['scale']:<17}{r['items']:>5}  {rng:<11}{mcid:<12}{r['name']}")


def score(
    instrument: str = typer.Argument(..., help="Instrument id (see `outcomes instruments`)."),
    answers: list[str] = typer.Argument(..., help="Item answers in order; - for a missing item."),
) -> None:
    """Score answers given on the command line and print JSON.

    Example: outcomes score odi 2 3 1 0 2 - 1 2 3 1
    """
    from outcomes.measures import catalog, scoring
    from outcomes.measures.instruments import get_instrument
    from outcomes.measures.responses import parse_answers

    inst = get_instrument(instrument.lower(), catalog.instruments())
    result = scoring.score(inst, parse_answers(answers))
    print_json({"instrument": inst.id, "scores": result.scores, "scorable": result.scorable,
                "reason": result.reason})


responses_app = typer.Typer(help="Store and re-check outcome-measure responses.")


@responses_app.command("add")
def responses_add(
    ctx: typer.Context,
    episode: str = typer.Argument(..., help="Episode id."),
    instrument: str = typer.Argument(..., help="Instrument id."),
    timepoint: str = typer.Argument(..., help="intake, progress, discharge or follow_up."),
    answers: list[str] = typer.Argument(..., help="Item answers in order; - for missing."),
    when: str | None = typer.Option(None, "--date", help="Date answered (default today)."),
    replace: bool = typer.Option(
        False, "--replace",
        help="Replace the response already stored at this timepoint (its values stay in the "
             "audit log)."),
    amend: str | None = typer.Option(
        None, "--amend", metavar="REASON",
        help="Amend the response already stored at this timepoint, saying why: the response "
             "is marked amended with the date and reason, the old values stay in the audit "
             "log."),
) -> None:
    """Store a response; prints its score. A timepoint that already has a response (an intake
    or a discharge, or a progress score on the same date) is refused unless --replace (a slip
    caught at once) or --amend REASON (a correction on the record, with its reason).

    Example: outcomes responses add E00042 odi intake 3 2 2 1 3 2 - 1 2 2 --date 2026-11-02
    """
    from outcomes.dates import today
    from outcomes.measures.responses import ResponseExists, parse_answers, save_response

    db = open_database(ctx)
    try:
        with options_named({"amend": "--amend"}):
            saved = save_response(db, episode, instrument.lower(), timepoint,
                                  parse_answers(answers), date_option(when, "--date") or today(),
                                  replace=replace, amend=amend)
    except ResponseExists:
        echo_err("To store the new answers instead, run the same command with --replace, or "
                 "with --amend REASON to keep a visible record of the correction.")
        raise
    stored = saved.response
    print_json({"episode_id": stored.episode_id, "instrument": stored.instrument,
                "timepoint": stored.timepoint, "date": stored.date.isoformat(),
                "scores": stored.scores, "scorable": stored.scorable, "reason": stored.reason,
                "replaced": saved.replaced, "amended": saved.amended})


@responses_app.command("rescore")
def responses_rescore(
    ctx: typer.Context,
    apply: bool = typer.Option(False, "--apply", help="Store the new scores (default: report)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recompute stored scores with the current instrument definitions and report what would
    change. Stored scores never change unless you pass --apply.

    Example: outcomes responses rescore --apply
    """
    from outcomes.measures.rescore import rescore

    db = open_database(ctx)
    changes = rescore(db, apply=apply)
    if json_out:
        print_json([c.__dict__ for c in changes])
        return
    for c in changes[:50]:
        say(f"response {c.response_id} ({c.episode_id} {c.instrument} {c.timepoint} "
                   f"{c.date}): {c.old} -> {c.new}")
    verb = "changed" if apply else "would change"
    say(f"{len(changes)} stored responses {verb}.")


nps_app = typer.Typer(help="Net Promoter answers.")


@nps_app.command("add")
def nps_add(
    ctx: typer.Context,
    episode: str = typer.Argument(..., help="Episode id, or - for a clinic-wide answer."),
    score_value: str = typer.Argument(..., metavar="SCORE", help="0-10."),
    comment: str = typer.Option("", "--comment", help="What the patient wrote."),
    when: str | None = typer.Option(None, "--date", help="Date answered (default today)."),
) -> None:
    """Store an NPS answer (0-10) with an optional comment.

    Example: outcomes nps add E00042 9 --comment "Great team"
    """
    from outcomes.dates import today
    from outcomes.measures.nps import save_nps

    saved = save_nps(open_database(ctx), {
        "episode_id": None if episode == "-" else episode, "score": score_value,
        "comment": comment, "date": date_option(when, "--date") or today()})
    say("Stored." if saved.added else "That answer was already on file; nothing changed.")


def register(app: typer.Typer) -> None:
    app.command()(instruments)
    app.command()(score)
    app.add_typer(responses_app, name="responses")
    app.add_typer(nps_app, name="nps")
