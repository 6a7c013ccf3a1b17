"""`outcomes model fit|report`: the risk-adjustment model fitted on the clinic's own episodes
(docs/reports.md, "Risk-adjusted outcomes")."""

from __future__ import annotations

from typing import Any

import typer

from outcomes.cli.common import date_option, open_database, print_json, say

model_app = typer.Typer(
    help="Fit the risk-adjustment model on the clinic's own episodes and report on it.",
    no_args_is_help=True)

MEASURE = typer.Option(None, "--measure", metavar="SCALE",
                       help="Only this measure (scale id, e.g. odi); repeatable.")


@model_app.command("fit")
def fit_cmd(ctx: typer.Context, measure: list[str] = MEASURE) -> None:
    """Fit one model per measure on every episode with an intake and a discharge score, and
    store it (the latest fit is the one reports use).

    Example: outcomes model fit --measure odi
    """
    from outcomes.reports.adjusted import fit_models

    db = open_database(ctx)
    result = fit_models(db, scales=[m.strip().lower() for m in measure or []] or None)
    for model in result.models:
        cv = "" if model.cv_rmse is None else f", cross-validated RMSE {model.cv_rmse:.2f}"
        verdict = "validates" if model.validates else "does not validate: " + " ".join(
            model.reasons)
        say(f"{model.scale}: {model.n} episodes, R-squared {model.r2:.2f}{cv}; {verdict}")
    for scale, n in result.skipped.items():
        say(f"{scale}: {n} episodes, too few to fit.")
    if not result.models and not result.skipped:
        say("No measure has intake and discharge scores yet: nothing to fit.")
        return
    say(f"Stored {len(result.models)} model(s). Details: outcomes model report")


def _num(value: float | None, fmt: str = "{:.2f}") -> str:
    return "" if value is None else fmt.format(value)


def _print(report: dict[str, Any]) -> None:
    for m in report["models"]:
        say(f"{m['scale']}: fitted {m['fitted_at']} on {m['n']} episodes")
        say(f"  R-squared {m['r2']:.3f}; residual SD {m['residual_sd']:.2f}; "
            f"5-fold cross-validated RMSE {_num(m['cv_rmse'])}, R-squared {_num(m['cv_r2'])}")
        say(f"  reference levels: age band {m['references']['age_band']}, "
            f"group {m['references']['group']}")
        say(f"  {'term':<28}{'estimate':>12}{'std error':>12}")
        for c in m["coefficients"]:
            say(f"  {c['term'][:27]:<28}{c['estimate']:>12.3f}{c['std_error']:>12.3f}")
        say(f"  calibration by decile of predicted improvement (tolerance "
            f"{m['tolerance']:.2f} points):")
        say(f"  {'decile':>6}{'n':>7}{'predicted':>11}{'observed':>10}{'± (99.5%)':>11}  ok")
        for d in m["calibration"]:
            say(f"  {d['decile']:>6}{d['n']:>7}{d['mean_predicted']:>11.2f}"
                f"{d['mean_observed']:>10.2f}{_num(d['half_width']):>11}  "
                f"{'yes' if d['ok'] else 'NO'}")
        if m["validates"]:
            say("  The model validates.")
        else:
            say("  The model does not validate: " + " ".join(m["reasons"]))
        say(f"  observed minus expected improvement, referrals {report['from']} to "
            f"{report['to']} (blank: model not valid or fewer than {report['min_n']}):")
        say(f"  {'partner':<32}{'n':>5}{'observed':>10}{'expected':>10}{'O - E':>8}"
            f"{'95% CI':>18}")
        for p in m["partners"]:
            ci = p["ci95"]
            ci_text = "" if ci is None else f"{ci[0]:+.1f} to {ci[1]:+.1f}"
            say(f"  {str(p['name'])[:31]:<32}{p['n']:>5}{_num(p['mean_observed'], '{:.1f}'):>10}"
                f"{_num(p['mean_expected'], '{:.1f}'):>10}"
                f"{_num(p['observed_minus_expected'], '{:+.1f}'):>8}{ci_text:>18}")
        say("")


@model_app.command("report")
def report_cmd(
    ctx: typer.Context,
    measure: list[str] = MEASURE,
    partner: str | None = typer.Option(None, "--partner", metavar="REF",
                                       help="Only this partner (NPI, id or name)."),
    start: str | None = typer.Option(None, "--from", metavar="DATE",
                                     help="First referral date (default: a year ago)."),
    end: str | None = typer.Option(None, "--to", metavar="DATE",
                                   help="Last referral date (default: today)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Each stored model: coefficients with standard errors, R-squared, cross-validated error,
    calibration by decile and whether it validates; then each partner's mean observed minus
    expected improvement with its 95% interval.

    Example: outcomes model report --measure odi --partner Dubois
    """
    from outcomes import periods
    from outcomes.dates import today
    from outcomes.network.partners import resolve_partner
    from outcomes.reports.adjusted import model_report

    db = open_database(ctx)
    default = periods.default_period(today())
    period = periods.check_period(date_option(start, "--from") or default.start,
                                  date_option(end, "--to") or default.end)
    partner_id = resolve_partner(db, partner)["id"] if partner else None
    report = model_report(db, period, scales=[m.strip().lower() for m in measure or []] or None,
                          partner_id=partner_id)
    if json_out:
        print_json(report)
    elif not report["models"]:
        say("No model is fitted yet: outcomes model fit")
    else:
        _print(report)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(model_app, name="model")
