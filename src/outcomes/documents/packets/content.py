"""What an evidence packet says, independent of its format (PDF, HTML, Markdown).

De-identified by construction: the content is built from the typed scorecard (which never reads
the ``patients`` table), per-month referral counts, and the public functions of
``reports.recovery`` and ``reports.adjusted`` (``evidence``: time to recovery, observed minus
expected, with their own small-cell checks); the packet reads no comment, name, record number,
birth date or date of service. Months and the period ("December 2025 to November
2026") are the finest dates shown.

Small cells (``min_n``, a setting, default 5). A packet leaves the clinic, so it follows a
complementary-suppression rule (docs/reports.md, "Small cells in packets"); each check is one of
the pure functions below, so the rule is written once:

- :func:`count_ok`: no count of 1 to ``min_n - 1`` patients is printed, anywhere.
- :func:`breakdown_ok`: a count that splits a group (seen, completed care, out of referred) is
  shown only when it and the rest of the group are each 0 or at least ``min_n``, so that no
  small count can be had by subtraction either.
- :func:`rate_ok`: a rate (the MCID rate with its interval and the mean change beside it) needs
  ``min_n`` patients, and a rate of 0% or 100% needs ``2 x min_n``: "100% of 5 reached the
  MCID" tells the reader the outcome of every one of those five patients.
- :func:`shares_ok`: the NPS (score, margin and the shares of detractors, passives and
  promoters, which the score and margin together give away) is shown only when every share
  stands for 0 or at least ``min_n`` answers and none is 0% or 100% of fewer than ``2 x min_n``.
- Medians need ``min_n`` patients behind them.
- Nothing about a partner's patients is shown when the partner referred fewer than ``min_n``.
- The referrals chart needs ``2 x min_n`` referrals in the period and is drawn per month only
  when every month's count is 0 or at least ``min_n``, else per quarter on the same condition,
  else not at all (:func:`referral_buckets`): no bar is ever left out, so none can be derived.
- The clinic's figure beside the partner's is shown only when the rest of the clinic (the clinic
  minus this partner) passes the same test, since subtracting the two would give it.
Patient comments are never included.

One module because the content and its small-cell rule are read together: every figure is
built next to the check that decides whether it may be shown, and a reviewer of the rule needs
both on one screen; the renderers (``pdf``, ``html``, ``markdown``, ``charts``) are apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.measures import catalog
from outcomes.reports.scorecard import NpsFigures, ScaleFigures, check_period, scorecards
from outcomes.store import settings


@dataclass(frozen=True)
class Chart:
    """A bar chart: one bar per series in each category. None = not shown (too few patients)."""

    title: str
    categories: list[str]
    series: list[str]
    values: list[list[float | None]]
    unit: str = ""
    """"%" for percentages (axis 0-100), "" for counts."""
    category_notes: list[str] = field(default_factory=list)
    """Optional second line under each category label (e.g. the year under January)."""
    note: str = ""


@dataclass(frozen=True)
class StepChart:
    """A step chart of shares (percent) at the end of each week from week 0: one line per
    series, a series None when not shown; a line may stop before the others (too few
    patients still followed)."""

    title: str
    series: list[str]
    values: list[list[float] | None]
    note: str = ""
    x_label: str = "weeks from the first visit"
    y_label: str = "share not yet recovered"

    @property
    def weeks(self) -> int:
        """The last week drawn."""
        return max((len(v) - 1 for v in self.values if v), default=0)


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Packet:
    partner_id: int
    clinic_name: str
    clinic_contact: str
    partner_name: str
    partner_detail: str
    period_label: str
    prepared_label: str
    summary: list[str]
    key_figures: Table
    outcomes: Table
    charts: list[Chart]
    methods: list[str]
    min_n: int
    figures: dict[str, Any] = field(default_factory=dict)
    """The numbers shown, for tests and callers (None where suppressed)."""
    conditions: Table = field(default_factory=lambda: Table([], []))
    """Outcomes on the primary measure, each patient once: pooled, by condition group and by
    procedure (``bycondition``)."""
    recovery_chart: StepChart | None = None
    """Time to recovery, the partner's curve beside the clinic's (``evidence``)."""
    adjusted: list[str] = field(default_factory=list)
    """Observed minus expected improvement under the clinic's model, one sentence a measure
    (``evidence``); empty when no model is fitted or none may be shown."""

    @property
    def title(self) -> str:
        return "Outcomes of the patients you referred"


def fewer(min_n: int) -> str:
    return f"fewer than {min_n} patients"


def pct(x: float) -> str:
    return f"{round(100 * x)}%"


def ci_text(ci: list[float] | None) -> str:
    if not ci:
        return ""
    return f"95% CI {round(100 * ci[0])}-{round(100 * ci[1])}%"


def num(x: float) -> str:
    """A median or mean for display: whole numbers without decimals, else one decimal."""
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.1f}"


def nps_text(block: NpsFigures) -> str:
    return f"{block.score or 0.0:+.0f} (±{block.moe95 or 0.0:.0f}, {block.n} answers)"


def rate_text(block: ScaleFigures) -> str:
    lo, hi = block.mcid_rate_ci95 or (0.0, 0.0)
    return f"{pct(block.mcid_rate or 0.0)} ({round(100 * lo)}-{round(100 * hi)}%)"


_MAX_SENTENCES = 1
"""Summary sentences about single measures (the largest samples first); the table has all."""


def _mcid_short(names: dict[str, tuple[str, str, Any, str]], scale_id: str) -> str:
    if scale_id not in names or names[scale_id][2].mcid is None:
        return ""
    mcid = names[scale_id][2].mcid
    return f" ({mcid.value:g}%)" if mcid.unit == "percent" else f" ({mcid.value:g} pts)"


def period_label(start: date, end: date) -> str:
    if (start.year, start.month) == (end.year, end.month):
        return f"{start:%B %Y}"
    return f"{start:%B %Y} to {end:%B %Y}"


def _months(start: date, end: date) -> list[str]:
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _scale_names() -> dict[str, tuple[str, str, Any, str]]:
    """scale id -> (display name, short label, Scale, instrument version)."""
    names: dict[str, tuple[str, str, Any, str]] = {}
    for inst in catalog.instruments().values():
        for scale_id, scale in inst.scales.items():
            short = inst.name.split(" (")[0]
            if len(inst.scales) == 1:
                names[scale_id] = (short, inst.id.upper().replace("_", " "), scale,
                                   inst.version)
            else:
                names[scale_id] = (f"{short}: {scale.name}", scale_id.upper(), scale,
                                   inst.version)
    return names


def count_ok(n: int, min_n: int) -> bool:
    """A count may be printed: none, or at least ``min_n`` patients."""
    return n == 0 or n >= min_n


def breakdown_ok(part: int, whole: int, min_n: int) -> bool:
    """``part`` of ``whole`` may be printed beside ``whole``: the part and the rest of the
    group (which a reader gets by subtraction) are each none or at least ``min_n``."""
    return 0 <= part <= whole and count_ok(part, min_n) and count_ok(whole - part, min_n)


def rate_ok(rate: float | None, n: int, min_n: int) -> bool:
    """A rate over ``n`` patients may be printed: at least ``min_n`` of them, and at least
    ``2 x min_n`` when it reads 0% or 100% (which states every one of those patients' result)."""
    if rate is None or n < min_n or n <= 0:
        return False
    return round(100 * rate) not in (0, 100) or n >= 2 * min_n


def shares_ok(counts: tuple[int, ...], min_n: int) -> bool:
    """Shares of a whole (the NPS categories) may be printed: each stands for none or at least
    ``min_n`` answers, and none is 0% or 100% of fewer than ``2 x min_n`` answers."""
    n = sum(counts)
    if n <= 0:
        return False
    return all(count_ok(c, min_n) and (0 < c < n or n >= 2 * min_n) for c in counts)


def referral_buckets(months: list[str], per_month: dict[str, int],
                     min_n: int) -> tuple[str, list[str], list[str], list[int]] | None:
    """The referrals chart as (unit, labels, second-line notes, counts), or None.

    Needs ``2 x min_n`` referrals in all; then per month when every month's count is 0 or at
    least ``min_n``, else per calendar quarter on the same condition, else no chart. A bucket
    is never left out, so no small count can be derived from the total."""
    counts = [per_month.get(m, 0) for m in months]
    if sum(counts) < 2 * min_n:
        return None
    if all(count_ok(c, min_n) for c in counts):
        labels = [date(int(m[:4]), int(m[5:]), 1).strftime("%b") for m in months]
        notes = [m[:4] if i == 0 or m.endswith("-01") else "" for i, m in enumerate(months)]
        return "month", labels, notes, counts
    quarters: dict[tuple[int, int], int] = {}
    for m, c in zip(months, counts, strict=True):
        key = (int(m[:4]), (int(m[5:]) - 1) // 3 + 1)
        quarters[key] = quarters.get(key, 0) + c
    if all(count_ok(c, min_n) for c in quarters.values()):
        keys = list(quarters)
        notes = [str(y) if i == 0 or q == 1 else "" for i, (y, q) in enumerate(keys)]
        return "quarter", [f"Q{q}" for _y, q in keys], notes, [quarters[k] for k in keys]
    return None


def _counts_shown(referred: int, seen: int, completed: int, min_n: int) -> tuple[bool, ...]:
    """Which of (referred, seen, completed) a packet may print for one group."""
    ok_r = referred >= min_n
    ok_s = ok_r and breakdown_ok(seen, referred, min_n)
    ok_c = ok_r and breakdown_ok(completed, referred, min_n)
    if ok_s and ok_c and not count_ok(abs(seen - completed), min_n):
        ok_c = False  # seen but not (yet) completed would be a small group
    return ok_r, ok_s, ok_c


def build_packet(
    db: Database, partner_id: int, start: date, end: date, *, today: date,
    min_n: int | None = None,
) -> Packet:
    """The content of the evidence packet for one partner over ``start``..``end``."""
    check_period(start, end)
    if min_n is None:
        min_n = int(settings.get(db, "min_n"))
    # Raw figures (min_n 0) for every check below, which must see the true small numbers; the
    # medians come from the scorecard at min_n, which counts the patients behind each median.
    card, at_min_n = scorecards(db, start, end, (0, min_n), partner_ids=[partner_id])
    mine, clinic = card.partner(partner_id), card.clinic
    partner = db.execute("SELECT organization, kind FROM partners WHERE id = ?",
                         [partner_id]).fetchone()
    org, kind = partner if partner else (None, "")
    period = period_label(start, end)
    small = fewer(min_n)
    names = _scale_names()
    figures: dict[str, Any] = {}

    def name_of(scale_id: str) -> str:
        return names[scale_id][0] if scale_id in names else scale_id

    # The rest of the clinic (clinic minus this partner): what subtracting the two columns
    # gives, so a clinic figure is shown only when the rest passes the same test.
    rest = (clinic.referrals - mine.referrals, clinic.evaluated - mine.evaluated,
            clinic.discharged - mine.discharged)
    referred_ok, seen_ok, done_ok = _counts_shown(mine.referrals, mine.evaluated,
                                                  mine.discharged, min_n)
    clinic_ok = tuple(
        a and (b or r == 0) for a, b, r in zip(
            _counts_shown(clinic.referrals, clinic.evaluated, clinic.discharged, min_n),
            _counts_shown(*rest, min_n), rest, strict=True))
    figures["referrals"] = mine.referrals if referred_ok else None
    figures["evaluated"] = mine.evaluated if seen_ok else None
    figures["discharged"] = mine.discharged if done_ok else None
    figures["clinic"] = {}
    figures["clinic"]["counts"] = [v if shown else None for v, shown in zip(
        (clinic.referrals, clinic.evaluated, clinic.discharged), clinic_ok, strict=True)]

    from outcomes.documents.packets.bycondition import condition_section

    section = condition_section(db, partner_id, start, end, min_n=min_n,
                                referred_ok=referred_ok)
    figures["conditions"] = section.figures
    # The packet leads with the pooled headline and the partner's largest condition groups.
    summary: list[str] = list(section.lead)
    from outcomes.documents.packets import evidence

    recovery: str | None = None
    recovery_chart: StepChart | None = None
    figures["recovery"] = None
    if referred_ok:
        parts = []
        if seen_ok:
            parts.append(f"{mine.evaluated} were seen")
        if done_ok:
            parts.append(f"{mine.discharged} have completed care")
        if parts:
            summary.append(f"Of the {mine.referrals} patients you referred from {period}, "
                           f"{' and '.join(parts)}.")
        else:
            summary.append(f"You referred {mine.referrals} patients from {period}.")
        found = evidence.recovery(db, partner_id, start, end, min_n)
        recovery, recovery_chart = found.sentence, found.chart
        figures["recovery"] = found.figures
        if recovery:
            summary.append(recovery)
    else:
        summary.append(
            f"You referred {small} from {period}. To protect their privacy this report does "
            f"not show figures about groups of {small}; the clinic's overall results are given "
            "for reference."
        )

    def outcome_ok(block: ScaleFigures | None, has_mcid: bool) -> bool:
        if block is None or block.n < min_n:
            return False
        return rate_ok(block.mcid_rate, block.n, min_n) if has_mcid else True

    def rest_outcome_ok(co: ScaleFigures, mo: ScaleFigures | None, has_mcid: bool) -> bool:
        if mo is None or mo.n == 0:
            return True  # the clinic's figure holds none of this partner's patients
        rest_n = co.n - mo.n
        if rest_n == 0:
            return True  # the clinic's figure is the partner's own
        if rest_n < min_n:
            return False
        if not has_mcid:
            return True
        met = round((co.mcid_rate or 0) * co.n) - round((mo.mcid_rate or 0) * mo.n)
        return rate_ok(met / rest_n, rest_n, min_n)

    # Outcomes per measure: every measure the partner's or the clinic's patients completed.
    scales = sorted(set(mine.outcomes) | set(clinic.outcomes),
                    key=lambda s: (-(mine.outcomes[s].n if s in mine.outcomes else 0),
                                   name_of(s)))
    rows: list[list[str]] = []
    chart_cats: list[str] = []
    chart_vals: list[list[float | None]] = []
    carried_mine = 0
    used_scales: list[str] = []
    adjusted_rows: list[tuple[str, str, int | None]] = []
    instrument_sentences: list[str] = []
    figures["outcomes"] = {}
    for scale_id in scales:
        mo = mine.outcomes.get(scale_id)
        co = clinic.outcomes.get(scale_id)
        carried_mine += mo.n_carried_forward if mo else 0
        m_n = mo.n if mo else 0
        c_n = co.n if co else 0
        if m_n == 0:
            # A measure none of this partner's patients completed compares nothing; its
            # clinic figure is left out so the packet keeps to two pages.
            continue
        used_scales.append(scale_id)
        has_mcid = any(b is not None and b.mcid is not None for b in (co, mo))
        label = name_of(scale_id)
        mine_n_ok = referred_ok and m_n >= min_n
        mine_ok = referred_ok and outcome_ok(mo, has_mcid)
        clinic_shown = co is not None and outcome_ok(co, has_mcid) and rest_outcome_ok(
            co, mo, has_mcid)
        figures["outcomes"][scale_id] = {
            "n": m_n if mine_n_ok else None,
            "mcid_rate": mo.mcid_rate if mine_ok and mo and has_mcid else None,
            "mean_improvement": mo.mean_improvement if mine_n_ok and mo else None,
            "clinic_n": c_n if clinic_shown else None,
            "clinic_mcid_rate": co.mcid_rate if clinic_shown and co and has_mcid else None,
        }
        adjusted_rows.append((scale_id, label, m_n if mine_n_ok else None))
        row = [label + _mcid_short(names, scale_id)]
        if mine_n_ok and mo:
            row += [str(m_n),
                    (rate_text(mo) if mine_ok else "not shown") if has_mcid else "no MCID",
                    num(mo.mean_improvement or 0.0)]
        elif m_n:
            row += [small, "not shown", "not shown"]
        else:
            row += ["none", "", ""]
        if clinic_shown and co:
            row += [str(c_n), rate_text(co) if has_mcid else "no MCID",
                    num(co.mean_improvement or 0.0)]
        else:
            row += [small if 0 < c_n < min_n else "not shown" if c_n else "none", "", ""]
        rows.append(row)
        if has_mcid and (mine_ok or clinic_shown):
            chart_cats.append(names[scale_id][1] if scale_id in names else scale_id)
            chart_vals.append([
                100 * (mo.mcid_rate or 0.0) if mine_ok and mo else None,
                100 * (co.mcid_rate or 0.0) if clinic_shown and co else None,
            ])
        if mine_n_ok and mo and len(instrument_sentences) < _MAX_SENTENCES:
            if has_mcid and mine_ok and mo.mcid_rate_ci95:
                lo, hi = mo.mcid_rate_ci95
                sentence = (
                    f"{pct(mo.mcid_rate or 0.0)} of your {m_n} patients with intake and "
                    f"discharge scores on the {label} reached a clinically important "
                    f"improvement (95% CI {round(100 * lo)}-{round(100 * hi)}%)"
                )
                if clinic_shown and co:
                    sentence += f"; clinic-wide, {pct(co.mcid_rate or 0.0)} did."
                else:
                    sentence += "."
            else:
                sentence = (f"On the {label}, your {m_n} patients improved by "
                            f"{num(mo.mean_improvement or 0.0)} points on average.")
            instrument_sentences.append(sentence)
    summary.extend(instrument_sentences)

    mine_min_n, clinic_min_n = at_min_n.partner(partner_id), at_min_n.clinic

    def median_of(block: Any, key: str, base: int, shown: bool) -> float | None:
        value = getattr(block, key)
        return value if shown and value is not None and base >= min_n else None

    medians = {
        key: (median_of(mine_min_n, key, base_m, referred_ok),
              median_of(clinic_min_n, key, base_c, True))
        for key, base_m, base_c in (
            ("median_days_to_first_visit", mine.evaluated, clinic.evaluated),
            ("median_visits", mine.discharged, clinic.discharged))
    }

    def median_sentence(key: str, what: str, unit: str) -> None:
        m, c = medians[key]
        figures[key] = m
        clinic_part = f" (clinic: {num(c)} {unit})" if c is not None else ""
        if m is not None:
            summary.append(f"{what} {num(m)} {unit}{clinic_part}.")
        elif c is not None:
            summary.append(f"{what} not shown for {small}; clinic: {num(c)} {unit}.")

    median_sentence("median_days_to_first_visit",
                    "Median time from referral to the first visit:", "days")
    if recovery is None:
        median_sentence("median_visits",
                        "Median number of visits for patients who completed care:", "visits")
    else:
        # The visits are in the key figures table; the summary makes room for the time to
        # recovery, so the packet stays on two pages.
        figures["median_visits"] = medians["median_visits"][0]

    m_nps, c_nps = mine.nps, clinic.nps

    def triple(block: NpsFigures) -> tuple[int, int, int]:
        return block.detractors, block.passives, block.promoters

    rest_nps = tuple(c - m for c, m in zip(triple(c_nps), triple(m_nps), strict=True))
    nps_mine_ok = referred_ok and shares_ok(triple(m_nps), min_n)
    nps_clinic_ok = shares_ok(triple(c_nps), min_n) and (
        sum(rest_nps) == 0 or sum(triple(m_nps)) == 0 or shares_ok(rest_nps, min_n))
    figures["nps"] = m_nps.score if nps_mine_ok else None
    figures["nps_moe95"] = m_nps.moe95 if nps_mine_ok else None
    figures["clinic"]["nps"] = c_nps.score if nps_clinic_ok else None
    if nps_mine_ok:
        text = f"Patient satisfaction (Net Promoter Score, -100 to +100): {nps_text(m_nps)}"
        text += f"; clinic: {nps_text(c_nps)}." if nps_clinic_ok else "."
        summary.append(text)
    elif nps_clinic_ok:
        why = f"for {small}" if m_nps.n < min_n else "(too few answers in one group)"
        summary.append("Patient satisfaction (Net Promoter Score, -100 to +100): not shown "
                       f"{why}; clinic: {nps_text(c_nps)}.")

    def count_cell(value: int, shown: bool) -> str:
        if shown:
            return str(value)
        return "none" if value == 0 else small if value < min_n else "not shown"

    def median_cell(value: float | None, base: int) -> str:
        return num(value) if value is not None else small if base else "none"

    def nps_cell(block: NpsFigures, shown: bool) -> str:
        if shown:
            return nps_text(block)
        return "no answers" if block.n == 0 else small if block.n < min_n else "not shown"

    days, visits = medians["median_days_to_first_visit"], medians["median_visits"]
    key_rows = [
        ["Patients referred", count_cell(mine.referrals, referred_ok),
         count_cell(clinic.referrals, clinic_ok[0])],
        ["Seen at least once", count_cell(mine.evaluated, seen_ok),
         count_cell(clinic.evaluated, clinic_ok[1])],
        ["Completed care", count_cell(mine.discharged, done_ok),
         count_cell(clinic.discharged, clinic_ok[2])],
        ["Median days from referral to first visit",
         median_cell(days[0], mine.evaluated), median_cell(days[1], clinic.evaluated)],
        ["Median visits (completed care)",
         median_cell(visits[0], mine.discharged), median_cell(visits[1], clinic.discharged)],
        ["Net Promoter Score (margin)", nps_cell(m_nps, nps_mine_ok),
         nps_cell(c_nps, nps_clinic_ok)],
    ]
    if not referred_ok:
        for row in key_rows:
            row[1] = small if mine.referrals else "none"

    charts: list[Chart] = []
    if referred_ok:
        per_month = dict(db.execute(
            "SELECT substr(referral_date, 1, 7), count(*) FROM episodes WHERE partner_id = ?"
            " AND referral_date BETWEEN ? AND ? GROUP BY 1",
            [partner_id, start.isoformat(), end.isoformat()]).fetchall())
        buckets = referral_buckets(_months(start, end), per_month, min_n)
        if buckets is not None:
            unit, labels, notes, counts = buckets
            figures["referrals_by"] = (unit, counts)
            charts.append(Chart(f"Your referrals per {unit}", labels, ["Referrals"],
                                [[float(c)] for c in counts], category_notes=notes))
    if chart_cats:
        charts.append(Chart("Clinically important improvement",
                            chart_cats, ["Your patients", "All clinic patients"], chart_vals,
                            unit="%", note=f"Bars are left out for {small}."))
    if nps_mine_ok or nps_clinic_ok:
        def dist(block: NpsFigures, shown: bool) -> list[float | None]:
            if not shown:
                return [None, None, None]
            return [100 * k / block.n for k in triple(block)]

        mine_d, clinic_d = dist(m_nps, nps_mine_ok), dist(c_nps, nps_clinic_ok)
        figures["nps_shares"] = mine_d
    # The time-to-recovery chart takes the place of the NPS answers chart, the weaker of the
    # two for a referrer (the score and its margin stay in the summary and the key figures),
    # so that the packet keeps to two pages.
    if (nps_mine_ok or nps_clinic_ok) and recovery_chart is None:
        charts.append(Chart("Would you recommend us? (answers)",
                            ["Detractors (0-6)", "Passives (7-8)", "Promoters (9-10)"],
                            ["Your patients", "All clinic patients"],
                            [[mine_d[i], clinic_d[i]] for i in range(3)], unit="%",
                            note=f"Bars are left out for {small}."))

    methods = _methods(used_scales, names, period, min_n, carried_mine, referred_ok)
    methods.insert(2, _CONDITIONS_NOTE)
    recovery_shown = recovery is not None or recovery_chart is not None
    if recovery_shown:
        methods.insert(3, _RECOVERY_NOTE)
    risk = evidence.adjusted(db, partner_id, adjusted_rows, start, end, min_n)
    figures["adjusted"] = risk.figures or None
    if risk.method is not None:
        methods.insert(4 if recovery_shown else 3, risk.method)
    detail = ", ".join(x for x in (org, kind) if x)
    return Packet(
        partner_id=partner_id,
        clinic_name=str(settings.get(db, "clinic_name")),
        clinic_contact=str(settings.get(db, "clinic_contact")),
        partner_name=mine.name,
        partner_detail=detail,
        period_label=period,
        prepared_label=f"Prepared {today:%B %Y}",
        summary=summary,
        key_figures=Table(["", "Your patients", "All clinic patients"], key_rows),
        outcomes=Table(["Measure (MCID)", "Your patients", "Reached MCID (95% CI)",
                        "Mean change", "Clinic patients", "Clinic: reached MCID (95% CI)",
                        "Clinic: mean change"], rows),
        charts=charts,
        methods=methods,
        min_n=min_n,
        figures=figures,
        conditions=section.table,
        recovery_chart=recovery_chart,
        adjusted=risk.sentences,
    )


_CONDITIONS_NOTE = (
    "By condition: each patient counts once, on a primary measure set by body region (ODI, "
    "NDI, QuickDASH, HOOS JR, KOOS JR, LEFS) unless the clinician chose another; groups follow "
    "the ICD-10-CM diagnosis, and small ones are in 'All other conditions'."
)

_RECOVERY_NOTE = (
    "Time to recovery: days from the first visit to the first score reaching the MCID on the "
    "primary measure. Patients who left or are still in care without reaching it count as not "
    "recovered up to their last score (Kaplan-Meier, censored), never dropped. Recovery is seen "
    "only on the days a questionnaire is filled in."
)

_VANCOUVER = re.compile(r"\.\s+([A-Z][^.;]{1,60}?)\.\s+((?:19|20)\d\d)\s*;")


def short_citation(source: str) -> str:
    """'Childs et al., Spine 2005' from a Vancouver-style reference (several may follow each
    other after 'Also:'), so the methods note fits the packet's two pages; the full references
    are in the instrument definition files. A reference that does not parse is kept whole."""
    shorts = []
    for ref in re.split(r"\s*Also:\s*", source.strip()):
        authors = ref.split(". ", 1)[0]
        match = _VANCOUVER.search(ref)
        if not match or not authors or len(authors) > 200:
            return source.strip().rstrip(".")
        first = authors.split(",")[0].split()[0]
        etal = " et al." if "," in authors or " et al" in authors else ""
        shorts.append(f"{first}{etal}, {match.group(1)} {match.group(2)}")
    return "; ".join(shorts)


def _methods(scales: list[str], names: dict[str, tuple[str, str, Any, str]], period: str,
             min_n: int, carried: int, referred_ok: bool) -> list[str]:
    notes = [
        f"Patients are counted by the date you referred them ({period}); satisfaction answers "
        "by the date they were given. 'Completed care' means discharged.",
        "Improvement is the change from the intake score to the discharge score, signed so that "
        "a positive number means the patient got better. A clinically important improvement is "
        "a change of at least the measure's minimal clinically important difference (MCID); "
        "for an MCID given as a percentage, that percentage of the patient's intake score. "
        "Mean change is in points on the measure's own scale.",
    ]
    by_source: dict[str, list[str]] = {}
    for scale_id in scales:
        if scale_id not in names:
            continue
        label, _short, scale, version = names[scale_id]
        if scale.mcid is None:
            notes.append(f"{label} (version {version}): no MCID is published; only the mean "
                         "change is shown.")
            continue
        unit = "points" if scale.mcid.unit == "points" else "% of the intake score"
        by_source.setdefault(scale.mcid.source, []).append(
            f"{label} (version {version}): MCID {scale.mcid.value:g}"
            f"{'' if scale.mcid.unit == 'percent' else ' '}{unit}, {scale.mcid.population}")
    for source, uses in by_source.items():
        notes.append("; ".join(uses) + f". Source: {short_citation(source)}.")
    if not referred_ok:
        cf_text = "not shown"
    elif carried == 0:
        cf_text = "none"
    elif carried < min_n:
        cf_text = fewer(min_n)
    else:
        cf_text = str(carried)
    notes.append(
        "Missing discharge scores: when a patient stopped attending before a discharge score "
        "was taken, the last progress score is carried forward; these patients are counted "
        "apart and are not in the rates above (your patients: " + cf_text + "). Patients with "
        "no score after intake are not counted in the outcome rows."
    )
    notes.append(
        "Rates carry 95% Wilson score intervals. The Net Promoter Score is the percentage of "
        "promoters (9-10) minus the percentage of detractors (0-6); its margin of error is "
        "1.96 x sqrt(((p + d) - (p - d)^2) / n). Sample sizes are in the tables."
    )
    notes.append(
        f"Privacy: no count of 1 to {min_n - 1} patients is shown or can be worked out from "
        f"two figures shown; a rate of 0% or 100% needs {2 * min_n} patients. No names, record "
        "numbers, birth dates, dates of service or comments."
    )
    return notes
