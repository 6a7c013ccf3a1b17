"""What an evidence packet says, independent of its format (PDF, HTML, Markdown).

De-identified by construction: the content is built from the scorecard (which never reads the
``patients`` table) and from per-month referral counts; no comment, name, record number, birth
date or date of service is ever read. Months and the period ("December 2025 to November 2026")
are the finest dates shown.

Small numbers (``min_n``, a setting, default 5). The rule, per figure:
- The partner's counts of patients referred, seen and who completed care are shown only when the
  partner referred at least ``min_n`` patients in the period; otherwise every figure about the
  partner's patients reads "fewer than 5 patients" and only the clinic's figures are given.
- An outcome row (n, MCID rate and interval, mean improvement) is shown only when at least
  ``min_n`` of the partner's patients have intake and discharge scores on that measure.
- Medians (days to first visit, visits) need ``min_n`` patients behind them; the NPS needs
  ``min_n`` answers, and then is shown as a score with its margin and as percentages.
- The count of patients whose last progress score was carried forward is shown when it is zero
  or at least ``min_n``.
- The referrals-per-month chart shows the partner's own referral counts (no outcome), only when
  the partner referred at least ``min_n`` patients in the period.
The same rule applies to the clinic's figures. Patient comments are never included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.measures import catalog
from outcomes.reports.scorecard import check_period, scorecard
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


def nps_text(block: dict[str, Any]) -> str:
    return f"{block['score']:+.0f} (±{block['moe95']:.0f}, {block['n']} answers)"


def rate_text(block: dict[str, Any]) -> str:
    lo, hi = block["mcid_rate_ci95"]
    return f"{pct(block['mcid_rate'])} ({round(100 * lo)}-{round(100 * hi)}%)"


_MAX_SENTENCES = 3
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


def build_packet(
    db: Database, partner_id: int, start: date, end: date, *, today: date,
    min_n: int | None = None,
) -> Packet:
    """The content of the evidence packet for one partner over ``start``..``end``."""
    check_period(start, end)
    if min_n is None:
        min_n = int(settings.get(db, "min_n"))
    card = scorecard(db, start, end, min_n=0, partner_ids=[partner_id]).as_dict()
    mine, clinic = card["partners"][0], card["clinic"]
    partner = db.execute("SELECT organization, kind FROM partners WHERE id = ?",
                         [partner_id]).fetchone()
    org, kind = partner if partner else (None, "")
    period = period_label(start, end)
    small = fewer(min_n)
    names = _scale_names()
    figures: dict[str, Any] = {}

    def ok(n: int) -> bool:
        return n >= min_n

    def name_of(scale_id: str) -> str:
        return names[scale_id][0] if scale_id in names else scale_id

    referred_ok = ok(mine["referrals"])
    figures["referrals"] = mine["referrals"] if referred_ok else None
    figures["evaluated"] = mine["evaluated"] if referred_ok else None
    figures["discharged"] = mine["discharged"] if referred_ok else None

    summary: list[str] = []
    if referred_ok:
        summary.append(
            f"Of the {mine['referrals']} patients you referred from {period}, "
            f"{mine['evaluated']} were seen and {mine['discharged']} have completed care."
        )
    else:
        summary.append(
            f"You referred {small} from {period}. To protect their privacy this report does "
            f"not show figures about groups of {small}; the clinic's overall results are given "
            "for reference."
        )

    # Outcomes per measure: every measure the partner's or the clinic's patients completed.
    scales = sorted(set(mine["outcomes"]) | set(clinic["outcomes"]),
                    key=lambda s: (-(mine["outcomes"].get(s, {}).get("n") or 0), name_of(s)))
    rows: list[list[str]] = []
    chart_cats: list[str] = []
    chart_vals: list[list[float | None]] = []
    carried_mine = 0
    used_scales: list[str] = []
    instrument_sentences: list[str] = []
    figures["outcomes"] = {}
    for scale_id in scales:
        mo = mine["outcomes"].get(scale_id)
        co = clinic["outcomes"].get(scale_id)
        carried_mine += (mo or {}).get("n_carried_forward", 0)
        m_n = (mo or {}).get("n", 0)
        c_n = (co or {}).get("n", 0)
        if m_n == 0 and not ok(c_n):
            continue
        used_scales.append(scale_id)
        has_mcid = (co or mo or {}).get("mcid") is not None
        label = name_of(scale_id)
        mine_shown = ok(m_n) and referred_ok
        figures["outcomes"][scale_id] = {
            "n": m_n if mine_shown else None,
            "mcid_rate": mo["mcid_rate"] if mine_shown and mo else None,
        }
        row = [label + _mcid_short(names, scale_id)]
        if mine_shown and mo:
            row += [str(m_n), rate_text(mo) if has_mcid else "no MCID",
                    num(mo["mean_improvement"])]
        elif m_n:
            row += [small, "not shown", "not shown"]
        else:
            row += ["none", "", ""]
        if ok(c_n) and co:
            row += [str(c_n), rate_text(co) if has_mcid else "no MCID",
                    num(co["mean_improvement"])]
        else:
            row += [small if c_n else "none", "", ""]
        rows.append(row)
        if has_mcid and (mine_shown or ok(c_n)):
            chart_cats.append(names[scale_id][1] if scale_id in names else scale_id)
            chart_vals.append([
                100 * mo["mcid_rate"] if mine_shown and mo else None,
                100 * co["mcid_rate"] if ok(c_n) and co else None,
            ])
        if mine_shown and mo and len(instrument_sentences) < _MAX_SENTENCES:
            if has_mcid:
                lo, hi = mo["mcid_rate_ci95"]
                sentence = (
                    f"{pct(mo['mcid_rate'])} of your {m_n} patients with intake and discharge "
                    f"scores on the {label} reached a clinically important improvement "
                    f"(95% CI {round(100 * lo)}-{round(100 * hi)}%)"
                )
                if ok(c_n) and co:
                    sentence += f"; clinic-wide, {pct(co['mcid_rate'])} did."
                else:
                    sentence += "."
            else:
                sentence = (f"On the {label}, your {m_n} patients improved by "
                            f"{num(mo['mean_improvement'])} points on average.")
            instrument_sentences.append(sentence)
    summary.extend(instrument_sentences)
    if len(instrument_sentences) < sum(1 for r in rows if r[1] not in ("none", small)):
        summary.append("Results on the other measures are in the table below.")

    def median_sentence(key: str, base_mine: int, base_clinic: int, what: str,
                        unit: str) -> None:
        m, c = mine[key], clinic[key]
        shown_m = m is not None and ok(base_mine) and referred_ok
        shown_c = c is not None and ok(base_clinic)
        figures[key] = m if shown_m else None
        clinic_part = f" (clinic: {num(c)} {unit})" if shown_c else ""
        if shown_m:
            summary.append(f"{what} {num(m)} {unit}{clinic_part}.")
        elif shown_c:
            summary.append(f"{what} not shown for {small}; clinic: {num(c)} {unit}.")

    median_sentence("median_days_to_first_visit", mine["evaluated"], clinic["evaluated"],
                    "Median time from referral to the first visit:", "days")
    median_sentence("median_visits", mine["discharged"], clinic["discharged"],
                    "Median number of visits for patients who completed care:", "visits")

    m_nps, c_nps = mine["nps"], clinic["nps"]
    nps_mine_ok = ok(m_nps["n"]) and m_nps["n"] > 0 and referred_ok
    nps_clinic_ok = ok(c_nps["n"]) and c_nps["n"] > 0
    figures["nps"] = m_nps["score"] if nps_mine_ok else None
    figures["nps_moe95"] = m_nps["moe95"] if nps_mine_ok else None
    if nps_mine_ok:
        text = f"Patient satisfaction (Net Promoter Score, -100 to +100): {nps_text(m_nps)}"
        text += f"; clinic: {nps_text(c_nps)}." if nps_clinic_ok else "."
        summary.append(text)
    elif nps_clinic_ok:
        summary.append("Patient satisfaction (Net Promoter Score, -100 to +100): not shown for "
                       f"{small}; clinic: {nps_text(c_nps)}.")

    def cell(value: str, base: int, shown_if: bool = True) -> str:
        return value if ok(base) and shown_if else small if base else "none"

    def count_cell(value: int, is_mine: bool) -> str:
        if is_mine and not referred_ok:
            return small if mine["referrals"] else "none"
        return str(value)

    key_rows = [
        ["Patients referred", count_cell(mine["referrals"], True),
         str(clinic["referrals"])],
        ["Seen at least once", count_cell(mine["evaluated"], True), str(clinic["evaluated"])],
        ["Completed care", count_cell(mine["discharged"], True), str(clinic["discharged"])],
        ["Median days from referral to first visit",
         cell(num(mine["median_days_to_first_visit"] or 0), mine["evaluated"],
              referred_ok and mine["median_days_to_first_visit"] is not None),
         cell(num(clinic["median_days_to_first_visit"] or 0), clinic["evaluated"],
              clinic["median_days_to_first_visit"] is not None)],
        ["Median visits (completed care)",
         cell(num(mine["median_visits"] or 0), mine["discharged"],
              referred_ok and mine["median_visits"] is not None),
         cell(num(clinic["median_visits"] or 0), clinic["discharged"],
              clinic["median_visits"] is not None)],
        ["Net Promoter Score (margin)",
         nps_text(m_nps) if nps_mine_ok else (small if m_nps["n"] else "no answers"),
         nps_text(c_nps) if nps_clinic_ok else (small if c_nps["n"] else "no answers")],
    ]
    if not referred_ok:
        for row in key_rows[3:]:
            row[1] = small if mine["referrals"] else "none"

    charts: list[Chart] = []
    if referred_ok:
        months = _months(start, end)
        per_month = dict(db.execute(
            "SELECT substr(referral_date, 1, 7), count(*) FROM episodes WHERE partner_id = ?"
            " AND referral_date BETWEEN ? AND ? GROUP BY 1",
            [partner_id, start.isoformat(), end.isoformat()]).fetchall())
        labels = [date(int(m[:4]), int(m[5:]), 1).strftime("%b") for m in months]
        notes = [m[:4] if i == 0 or m.endswith("-01") else "" for i, m in enumerate(months)]
        charts.append(Chart("Your referrals per month", labels, ["Referrals"],
                            [[float(per_month.get(m, 0))] for m in months],
                            category_notes=notes))
    if chart_cats:
        charts.append(Chart("Clinically important improvement",
                            chart_cats, ["Your patients", "All clinic patients"], chart_vals,
                            unit="%", note=f"Bars are left out for {small}."))
    if nps_mine_ok or nps_clinic_ok:
        def dist(block: dict[str, Any], shown: bool) -> list[float | None]:
            if not shown:
                return [None, None, None]
            n = block["n"]
            return [100 * block[k] / n for k in ("detractors", "passives", "promoters")]

        mine_d, clinic_d = dist(m_nps, nps_mine_ok), dist(c_nps, nps_clinic_ok)
        charts.append(Chart("Would you recommend us? (answers)",
                            ["Detractors (0-6)", "Passives (7-8)", "Promoters (9-10)"],
                            ["Your patients", "All clinic patients"],
                            [[mine_d[i], clinic_d[i]] for i in range(3)], unit="%",
                            note=f"Bars are left out for {small}."))

    methods = _methods(used_scales, names, period, min_n, carried_mine, referred_ok)
    detail = ", ".join(x for x in (org, kind) if x)
    return Packet(
        partner_id=partner_id,
        clinic_name=str(settings.get(db, "clinic_name")),
        clinic_contact=str(settings.get(db, "clinic_contact")),
        partner_name=mine["name"],
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
        f"Privacy: no figure resting on {fewer(min_n)} is shown. This report holds no patient "
        "names, record numbers, birth dates, dates of service or comments."
    )
    return notes
