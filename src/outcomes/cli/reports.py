"""Commands that report: scorecards, NPS analytics, evidence packets, patient letters."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer

from outcomes.cli.common import date_option, open_database, print_json, say


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    from outcomes.dates import today
    from outcomes.reports.scorecard import check_period, default_period

    default_start, default_end = default_period(today())
    period = (date_option(start, "--from") or default_start, date_option(end, "--to")
              or default_end)
    check_period(*period)
    return period


FROM = typer.Option(None, "--from", metavar="DATE",
                    help="First referral date (default: a year ago).")
TO = typer.Option(None, "--to", metavar="DATE", help="Last referral date (default: today).")


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.0f}%"


def _num(x: float | None, fmt: str = "{:.0f}") -> str:
    return "" if x is None else fmt.format(x)


def _recovery(curve: dict[str, Any] | None) -> str:
    if not curve or curve.get("suppressed") or curve["median_weeks"] is None:
        return f"n {curve['n'] if curve else 0}: -"
    ci = curve["median_ci95_weeks"] or [None, None]
    ends = "-".join("not reached" if v is None else f"{v:.1f}" for v in ci)
    return f"n {curve['n']}: {curve['median_weeks']:.1f} wk ({ends})"


def _adjusted(a: dict[str, Any]) -> str:
    if a["observed_minus_expected"] is None:
        return f"{a['scale']} n {a['n']} -"
    lo, hi = a["ci95"]
    return f"{a['scale']} n {a['n']} {a['observed_minus_expected']:+.1f} ({lo:+.1f} to {hi:+.1f})"


def _print_scorecard(card: dict[str, Any]) -> None:
    say(f"Scorecard {card['from']} to {card['to']} (figures on fewer than "
               f"{card['min_n']} patients are blank)")
    say(f"{'partner':<32}{'refs':>6}{'seen':>6}{'disch':>6}{'conv':>6}{'days':>6}"
               f"{'visits':>7}{'NPS':>6}{'±':>4}{'n':>5}  outcomes: scale n MCID-rate (cf)")
    for label, block in [("(whole clinic)", card["clinic"]),
                         *[(p["name"], p) for p in card["partners"]]]:
        nps = block["nps"]
        outcomes = "  ".join(
            f"{scale} {o['n']} {_pct(o['mcid_rate']) or '-'}"
            + (f" (+{o['n_carried_forward']} cf)" if o["n_carried_forward"] else "")
            for scale, o in block["outcomes"].items()
        )
        say(
            f"{label[:31]:<32}{block['referrals']:>6}{block['evaluated']:>6}"
            f"{block['discharged']:>6}{_pct(block['conversion_rate']):>6}"
            f"{_num(block['median_days_to_first_visit'], '{:g}'):>6}"
            f"{_num(block['median_visits'], '{:g}'):>7}{_num(nps['score'], '{:+.0f}'):>6}"
            f"{_num(nps['moe95']):>4}{nps['n']:>5}  {outcomes}"
        )
    if "time_to_recovery" in card["clinic"]:
        say("")
        say("Time to recovery (median weeks to the MCID, Kaplan-Meier, 95% CI; blank under the "
            "limit) and observed minus expected improvement per measure (95% CI)")
        for label, block in [("(whole clinic)", card["clinic"]),
                             *[(p["name"], p) for p in card["partners"]]]:
            say(f"{label[:31]:<32}{_recovery(block['time_to_recovery'])}  "
                + "  ".join(_adjusted(a)
                            for a in block.get("observed_minus_expected", {}).values()))
    if "primary" not in card["clinic"]:
        return  # a scorecard JSON written before conditions were recorded
    say("")
    say("By condition: reached the MCID on the primary measure, each patient once "
        "(n, rate, 95% CI; blank under the limit)")
    for label, block in [("(whole clinic)", card["clinic"]),
                         *[(p["name"], p) for p in card["partners"]]]:
        if not block["primary"]["n"]:
            continue
        say(f"{label[:31]:<32}all conditions {_pooled(block['primary'])}")
        for title, rows in (("condition", block["by_condition"]),
                            ("procedure", block["by_procedure"])):
            for row in rows:
                say(f"{'':<32}{title}: {row['name']} {_pooled(row)}")


def _pooled(row: dict[str, Any]) -> str:
    ci = row["mcid_rate_ci95"]
    rate = f" {_pct(row['mcid_rate'])}" if row["mcid_rate"] is not None else ""
    return f"n {row['n']}{rate}" + (f" ({_pct(ci[0])}-{_pct(ci[1])})" if ci else "")


def scorecard_cmd(
    ctx: typer.Context,
    start: str | None = FROM,
    end: str | None = TO,
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    partner: list[str] = typer.Option(
        [], "--partner", metavar="REF", help="Only this partner (NPI, id or name); repeatable."),
    evidence: bool = typer.Option(
        False, "--evidence",
        help="Add time to recovery (Kaplan-Meier) and observed minus expected improvement per "
             "measure (after outcomes model fit); slower on a big clinic."),
    recovery: bool = typer.Option(
        False, "--recovery",
        help="Add time to recovery (Kaplan-Meier) only: the cheaper half of --evidence."),
) -> None:
    """Outcomes, conversion and NPS per referring partner and for the whole clinic.

    Example: outcomes scorecard --from 2026-01-01 --json --evidence
    """
    from outcomes.network.partners import resolve_partner
    from outcomes.reports.scorecard import scorecard

    db = open_database(ctx)
    period = _period(start, end)
    ids = [resolve_partner(db, ref)["id"] for ref in partner] or None
    card = scorecard(db, *period, partner_ids=ids, evidence=evidence,
                     recovery=recovery).as_dict()
    if json_out:
        print_json(card)
    else:
        _print_scorecard(card)


def nps_stats_cmd(
    ctx: typer.Context,
    start: str | None = typer.Option(None, "--from", metavar="DATE",
                                     help="First answer date (default: a year ago)."),
    end: str | None = typer.Option(None, "--to", metavar="DATE",
                                   help="Last answer date (default: today)."),
    by: str | None = typer.Option(None, "--by", help="Group by partner, clinician or month."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Net Promoter Score with its margin of error, overall and by partner, clinician or month,
    and for patients who reached the MCID versus those who did not.

    Example: outcomes nps-stats --by month
    """
    from outcomes.reports.nps import BY_CHOICES, nps_stats

    if by is not None and by.lower() not in BY_CHOICES:
        raise typer.BadParameter(f"must be one of {', '.join(BY_CHOICES)}", param_hint="--by")
    db = open_database(ctx)
    result = nps_stats(db, *_period(start, end), by=by.lower() if by else None)
    if json_out:
        print_json(result)
        return

    def line(label: str, b: dict[str, Any]) -> str:
        score = "" if b["score"] is None else f"{b['score']:+.0f} ±{b['moe95']:.0f}"
        return (f"{label[:36]:<38}{score:>10}{b['n']:>6}{b['promoters']:>6}{b['passives']:>6}"
                f"{b['detractors']:>6}")

    say(f"NPS {result['from']} to {result['to']} (blank: fewer than "
               f"{result['min_n']} answers)")
    say(f"{'':<38}{'NPS':>10}{'n':>6}{'prom':>6}{'pass':>6}{'detr':>6}")
    say(line("overall", result["overall"]))
    say(line("reached the MCID", result["by_mcid"]["reached"]))
    say(line("did not reach the MCID", result["by_mcid"]["not_reached"]))
    say(f"  ({result['by_mcid']['unknown']} answers without an outcome pair)")
    for group in result["groups"]:
        say(line(str(group["label"]), group))


def packet_cmd(
    ctx: typer.Context,
    partner: str = typer.Argument(..., help="Partner NPI, id, or an unambiguous name."),
    out: Path = typer.Option(..., "--out", help="Output file: .pdf, .html or .md."),
    start: str | None = FROM,
    end: str | None = TO,
) -> None:
    """Write the evidence packet for one referring partner (de-identified) and log it.

    Example: outcomes packet "Hale" --out hale.pdf --from 2026-01-01
    """
    from outcomes.dates import today
    from outcomes.documents.packets import make_packet
    from outcomes.network.partners import resolve_partner

    db = open_database(ctx)
    period = _period(start, end)
    found = resolve_partner(db, partner)
    made = make_packet(db, found["id"], out, *period, today=today())
    say(f"Wrote {made.path} for {made.partner_name}; logged as made (communication "
        f"{made.communication_id}). Once it has gone out: outcomes communications sent "
        f"{made.communication_id} --channel fax")


def packets_cmd(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="Every active, growing or mature partner "
                              "with referrals in the period."),
    out: Path = typer.Option(..., "--out", help="Output folder (created if missing)."),
    fmt: str = typer.Option("pdf", "--format", help="pdf, html or md."),
    start: str | None = FROM,
    end: str | None = TO,
) -> None:
    """Write evidence packets for all active partners into a folder.

    Example: outcomes packets --all --out packets/
    """
    from outcomes.dates import today
    from outcomes.documents.packets import make_all

    if not all_:
        raise typer.BadParameter("pass --all (use `outcomes packet PARTNER` for one partner)",
                                 param_hint="--all")
    if fmt.lower() not in ("pdf", "html", "md"):
        raise typer.BadParameter("must be pdf, html or md", param_hint="--format")
    db = open_database(ctx)
    made = make_all(db, out, *_period(start, end), today=today(), fmt=fmt.lower())
    for m in made:
        say(f"{m.path}  {m.partner_name}")
    say(f"{len(made)} packets written to {out}.")


def letter_cmd(
    ctx: typer.Context,
    episode: str = typer.Argument(..., help="Episode id."),
    kind: str = typer.Option(..., "--kind",
                             help="evaluation, progress, discharge or outbound."),
    out: Path = typer.Option(..., "--out", help="Output file: .pdf (fax), .md or .txt."),
    outbound: int | None = typer.Option(
        None, "--outbound", help="For --kind outbound: the outbound referral id (default: the "
        "episode's latest)."),
) -> None:
    """Write a letter about a patient from what is on file, under the clinic's letterhead, and
    record it as made. It identifies the patient; it is written owner-only (0600).

    evaluation: evaluation summary with the plan of care and a certification block for the
    physician; progress: scores so far against intake and the goals; discharge: the outcome
    against the MCID, goals met, visits and the discharge reason; outbound: the referral note
    to the partner the patient is sent to. Each follows its template (outcomes
    letter-template KIND).

    Example: outcomes letter E00042 --kind discharge --out E00042.pdf
    """
    from outcomes.dates import today
    from outcomes.documents.letters import KINDS, make_letter

    if kind.lower() not in KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(KINDS)}", param_hint="--kind")
    db = open_database(ctx)
    letter, comm_id = make_letter(db, episode, kind.lower(), out, today=today(),
                                  outbound_id=outbound)
    say(f"Wrote {out} ({letter.title.lower()} for episode {episode}); recorded as made "
        f"(communication {comm_id}). Once it has gone out: outcomes communications sent "
        f"{comm_id} --channel fax")


def letter_template_cmd(
    kind: str = typer.Argument(..., help="evaluation, progress, discharge or outbound."),
    path: bool = typer.Option(False, "--path", help="Print where the clinic's own template "
                              "for this kind goes, instead of the template."),
) -> None:
    """Print the letter template in use for KIND (the clinic's own, else the built-in one), to
    copy into the config folder and adjust.

    Example: outcomes letter-template evaluation > "$(outcomes letter-template evaluation
    --path)"
    """
    from outcomes.documents import templates
    from outcomes.text import printable

    if kind.lower() not in templates.KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(templates.KINDS)}",
                                 param_hint="KIND")
    where = templates.template_path(kind.lower())
    if path:
        print(where)
        return
    if where.is_file():
        templates.load(kind.lower())  # refuse a broken file with its line and column
        print(printable(where.read_text(encoding="utf-8"), keep_newlines=True), end="")
    else:
        print(templates.DEFAULTS[kind.lower()], end="")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("scorecard")(scorecard_cmd)
    app.command("nps-stats")(nps_stats_cmd)
    app.command("packet")(packet_cmd)
    app.command("packets")(packets_cmd)
    app.command("letter")(letter_cmd)
    app.command("letter-template")(letter_template_cmd)
