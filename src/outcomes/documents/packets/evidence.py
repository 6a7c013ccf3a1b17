"""The packet's two figures from the evidence reports: the time-to-recovery step chart (with
the median sentence) and observed minus expected improvement under the clinic's risk model.

Both come from the public functions of ``outcomes.reports.recovery`` and
``outcomes.reports.adjusted`` only; nothing here reads a table, so the packet never reads
``patients`` (the age band of the risk model is the report's business).

Small cells, beyond the rule of ``content`` (docs/reports.md, "Small cells in packets"):

- The step chart is drawn only when the partner's curve rests on ``min_n`` patients. Each week
  is drawn only while at least ``min_n`` of the partner's patients are still followed into it
  (``reports.recovery.followed_weeks``; the partner screen's chart stops at the same week,
  ``reports.recovery.recovery_chart``): in a curve's tail a step stands for one patient's
  recovery week.
  A week that reads 0% (all recovered) needs ``2 x min_n``, as a rate of 100% does.
- The clinic's curve beside it follows the clinic rule: the rest of the clinic (clinic minus
  this partner) must be empty or rest on ``min_n`` patients, week by week as well.
- Observed minus expected is shown only when the model validates and rests on ``min_n`` of the
  partner's patients (``reports.adjusted``), when the partner's row of that measure is shown,
  and when the patients behind it and those of the row differ by none or at least ``min_n``
  (a mean over a few left-out patients could otherwise be had from the two). Only the
  difference and its interval are printed, never the observed or expected means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.documents.packets.content import StepChart, breakdown_ok

MAX_ADJUSTED = 3
"""Measures with an observed-minus-expected sentence (the largest rows first)."""


@dataclass(frozen=True)
class Recovery:
    """Time to recovery in the packet: the summary sentence and the chart (each None when not
    shown) and the numbers behind them for tests."""

    sentence: str | None
    chart: StepChart | None
    figures: dict[str, Any] = field(default_factory=dict)


def recovery(db: Database, partner_id: int, start: date, end: date, min_n: int) -> Recovery:
    """The partner's time to recovery beside the clinic's (one read of the period); the lines
    stop where ``reports.recovery.recovery_chart`` stops them, as on the partner screen."""
    from outcomes.periods import Period
    from outcomes.reports.recovery import recovery_chart

    found = recovery_chart(db, partner_id, Period(start, end), min_n=min_n)
    sentence = _sentence(found.mine, found.clinic if found.clinic_comparable else None)
    figures: dict[str, Any] = {"median_days": None if sentence is None else found.mine.median_days,
                               "chart": None}
    if found.mine_line is None:
        return Recovery(sentence, None, figures)
    values: list[list[float] | None] = [found.mine_line, found.clinic_line]
    chart = StepChart(
        "Time to recovery",
        ["Your patients", "All clinic patients"], values,
        note=f"Kaplan-Meier; a line ends when under {min_n} patients remain.")
    figures["chart"] = {"mine": values[0], "clinic": values[1]}
    return Recovery(sentence, chart, figures)


def _sentence(mine: Any, clinic: Any | None) -> str | None:
    """The partner's median beside the clinic's, only when the partner's curve rests on min_n
    patients and reaches its median (no counts: they could be set against the referral counts
    of the key figures)."""
    from outcomes.reports.recovery import weeks_text as weeks

    if mine.suppressed or mine.median_days is None:
        return None
    ci = ""
    if mine.median_ci_days is not None:
        ci = f"95% CI {weeks(mine.median_ci_days[0])}-{weeks(mine.median_ci_days[1])}; "
    clinic_part = ("" if clinic is None or clinic.median_days is None
                   else f"; clinic {weeks(clinic.median_days)} weeks")
    return (f"Median time to a clinically important improvement: {weeks(mine.median_days)} "
            f"weeks from the first visit ({ci}Kaplan-Meier){clinic_part}.")


@dataclass(frozen=True)
class AdjustedFigures:
    """Observed minus expected in the packet: one sentence per measure shown, the methods
    paragraph (None when nothing is shown) and the numbers, scale -> mean, for tests."""

    sentences: list[str]
    method: str | None
    figures: dict[str, float]


def adjusted(db: Database, partner_id: int, rows: Sequence[tuple[str, str, int | None]],
             start: date, end: date, min_n: int) -> AdjustedFigures:
    """Observed minus expected on each measure of ``rows`` ((scale, label, the patient count
    the outcomes table shows or None), in table order), under the clinic's latest model."""
    from outcomes.periods import Period
    from outcomes.reports.adjusted import observed_minus_expected

    period = Period(start, end)
    sentences: list[str] = []
    figures: dict[str, float] = {}
    for scale, label, shown_n in rows:
        if len(sentences) >= MAX_ADJUSTED:
            break
        if shown_n is None:
            continue
        found = observed_minus_expected(db, partner_id, scale, period, min_n=min_n)
        if found.mean is None or found.ci95 is None:
            continue
        if not (found.n >= min_n and breakdown_ok(found.n, shown_n, min_n)):
            continue
        figures[scale] = found.mean
        sentences.append(adjusted_sentence(label, found.mean, found.ci95))
    return AdjustedFigures(sentences, ADJUSTED_METHOD.format(min_n=min_n) if sentences else None,
                           figures)


def signed(x: float) -> str:
    """One decimal with its sign ("+2.5", "-1.0", "0.0")."""
    text = f"{x:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def adjusted_sentence(label: str, mean: float, ci: tuple[float, float]) -> str:
    """'On the ODI, your patients improved 2.5 points more than the clinic's model expects
    for patients like them (95% CI -0.5 to +5.5).'"""
    size = f"{abs(mean):.1f}"
    more = "more" if mean > 0 else "less"
    how = "as much as" if size == "0.0" else f"{size} points {more} than"
    return (f"On the {label}, your patients improved {how} the clinic's model expects for "
            f"patients like them (95% CI {signed(ci[0])} to {signed(ci[1])} points).")


ADJUSTED_METHOD = (
    "Compared with what the clinic's model expects: for each measure a model (least squares), "
    "fitted on all the clinic's patients, yours included, predicts a patient's improvement from "
    "the intake score, age band, days from onset to the first visit, condition group and, "
    "where recorded, surgical status. '2 points more than the model expects' means your "
    "patients improved on average 2 points more than the model predicts for patients like "
    "them; a 95% interval (Student's t) that includes 0 means no difference can be told from "
    "chance. Shown only when the model passes its checks (at least 50 patients, better than "
    "the clinic's average on patients it was not fitted on, calibrated in every tenth of "
    "patients) and rests on at least {min_n} of your patients. It compares your patients with "
    "this clinic's other patients, and sees only what the clinic records."
)


__all__ = ["MAX_ADJUSTED", "AdjustedFigures", "Recovery", "adjusted", "adjusted_sentence",
           "recovery", "signed"]
