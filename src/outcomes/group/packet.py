"""The group evidence packet: one partner's patients across the group's clinics, next to the
whole group's, built from the group scorecard (computed in PostgreSQL) and rendered by the
clinic packet's renderers (PDF, HTML, Markdown).

The same small-cell rule as the clinic packet (docs/reports.md, "Small cells in packets"),
through its pure checks (``count_ok``, ``breakdown_ok``, ``rate_ok``, ``shares_ok``): no count of
1 to ``min_n - 1``, not even by subtraction (seen and completed out of referred; the clinics' counts
in "where your patients were seen" are shown only when every one of them passes), no rate of 0%
or 100% on fewer than ``2 x min_n``, NPS shares each on none or ``min_n`` answers, and the
group's figure beside the partner's only when the rest of the group passes the same test.
The referrals chart is the clinic packet's (``content.referral_buckets``: per month, else per
quarter, else none, never a bar left out), over the partner's referrals to every clinic,
counted per month in PostgreSQL (``outcomes.group.reports.referrals_by_month``). It leads, as
the clinic packet does, with the pooled headline on the primary measure and the partner's
largest condition groups, and carries the "Outcomes by condition" table: the clinic packet's own
section (``documents.packets.bycondition.condition_section``, with its remainder and nesting
checks) over cells counted in PostgreSQL (``outcomes.group.reports.primary_cells``), the whole
group standing where the clinic stands. Differences from the clinic packet: a shorter methods
note, and nothing is logged as a communication (log it at the clinic that sends the packet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from outcomes.documents.packets.content import (
    Chart,
    Packet,
    Table,
    _counts_shown,
    _months,
    count_ok,
    fewer,
    num,
    pct,
    period_label,
    rate_ok,
    referral_buckets,
    shares_ok,
    short_citation,
)
from outcomes.measures import catalog
from outcomes.reports.scorecard import PRIMARY_SQL

if TYPE_CHECKING:
    from sqlite_utils import Database


class _GroupCells:
    """What the clinic packet's by-condition section reads, answered with the group's cells.

    ``condition_section`` reads its cells with one query, ``PRIMARY_SQL``, from a clinic
    database; this answers that query (and only that one: any other read fails here rather
    than return wrong figures) with the same cells counted over every clinic in PostgreSQL,
    so the group packet goes through the section's small-cell checks unchanged."""

    def __init__(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self._rows = list(rows)

    def execute(self, sql: str, _params: Sequence[Any] = ()) -> _GroupCells:
        if sql != PRIMARY_SQL:
            raise AssertionError("the by-condition section reads more than its cells")
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)


def _all_clinics(text: str) -> str:
    """The section's comparison with "clinic" is, in a group packet, with all our clinics."""
    return text.replace("; clinic ", "; all our clinics ")


def nps_text(block: dict[str, Any]) -> str:
    """The group scorecard is JSON-shaped (computed in PostgreSQL): its blocks are dicts."""
    return f"{block['score']:+.0f} (±{block['moe95']:.0f}, {block['n']} answers)"


def rate_text(block: dict[str, Any]) -> str:
    lo, hi = block["mcid_rate_ci95"]
    return f"{pct(block['mcid_rate'])} ({round(100 * lo)}-{round(100 * hi)}%)"


def _names() -> dict[str, tuple[str, str, Any]]:
    """scale id -> (label, short label, scale)."""
    names: dict[str, tuple[str, str, Any]] = {}
    for instrument in catalog.instruments().values():
        for scale_id, scale in instrument.scales.items():
            label = instrument.name if len(instrument.scales) == 1 else \
                f"{instrument.name}: {scale.name}"
            names[scale_id] = (label, scale_id.upper(), scale)
    return names


def build_group_packet(card: dict[str, Any], *, group_name: str, contact: str,
                       today: date, per_month: Mapping[str, int] | None = None,
                       conditions: Sequence[tuple[Any, ...]] | None = None) -> Packet:
    """The packet of the one partner in ``card`` (a group scorecard computed with min_n=0 for
    that partner, and the min_n to apply in ``card['packet_min_n']``). ``per_month``: the
    partner's referrals per 'YYYY-MM' across the group, for the referrals chart (none
    without it). ``conditions``: the group's primary-measure cells
    (``outcomes.group.reports.primary_cells``), for the lead and the by-condition table (none
    without them)."""
    min_n = int(card["packet_min_n"])
    mine, group = card["partners"][0], card["clinic"]
    start, end = date.fromisoformat(card["from"]), date.fromisoformat(card["to"])
    period = period_label(start, end)
    small = fewer(min_n)
    names = _names()
    n_clinics = len(card["clinics"])
    referred_ok, seen_ok, done_ok = _counts_shown(mine["referrals"], mine["evaluated"],
                                                  mine["discharged"], min_n)

    def ok(n: int) -> bool:
        return n >= min_n

    def outcome_ok(block: dict[str, Any] | None, has_mcid: bool) -> bool:
        if not block or block.get("n", 0) < min_n:
            return False
        return rate_ok(block.get("mcid_rate"), block["n"], min_n) if has_mcid else True

    def rest_ok(go: dict[str, Any], mo: dict[str, Any] | None, has_mcid: bool) -> bool:
        """The group's figure may stand beside the partner's: the rest of the group (what
        subtracting the two gives) passes the same test."""
        m_n = (mo or {}).get("n", 0)
        rest_n = go["n"] - m_n
        if m_n == 0 or rest_n == 0:
            return True
        if rest_n < min_n:
            return False
        if not has_mcid:
            return True
        met = round((go.get("mcid_rate") or 0) * go["n"]) - round(
            ((mo or {}).get("mcid_rate") or 0) * m_n)
        return rate_ok(met / rest_n, rest_n, min_n)

    def nps_ok(block: dict[str, Any]) -> bool:
        return block["n"] > 0 and shares_ok(
            (block["detractors"], block["passives"], block["promoters"]), min_n)

    def label(scale_id: str) -> str:
        return names[scale_id][0] if scale_id in names else scale_id

    summary: list[str] = []
    if referred_ok:
        parts = ([f"{mine['evaluated']} were seen"] if seen_ok else []) + (
            [f"{mine['discharged']} have completed care"] if done_ok else [])
        summary.append(
            f"Of the {mine['referrals']} patients you referred across our "
            f"{mine['n_clinics']} clinics from {period}, {' and '.join(parts)}." if parts else
            f"You referred {mine['referrals']} patients across our {mine['n_clinics']} "
            f"clinics from {period}.")
        seen_at = [c for c in mine["clinics"] if c["referrals"]]
        # One hidden count would follow from the total: all clinics' counts, or none.
        counts_shown = all(count_ok(c["referrals"], min_n) for c in seen_at)
        where = [f"{c['name']} ({c['referrals']})" if counts_shown else c["name"]
                 for c in seen_at]
        summary.append("Where your patients were seen: " + "; ".join(where) + ".")
    else:
        summary.append(
            f"You referred {small} across our {n_clinics} clinics from {period}. To protect "
            f"their privacy this report does not show figures about groups of {small}; the "
            "results of all our clinics are given for reference.")

    rows: list[list[str]] = []
    cats: list[str] = []
    vals: list[list[float | None]] = []
    scales = sorted(set(mine["outcomes"]) | set(group["outcomes"]),
                    key=lambda s: (-(mine["outcomes"].get(s, {}).get("n") or 0), label(s)))
    sentences = 0
    for scale_id in scales:
        mo, go = mine["outcomes"].get(scale_id), group["outcomes"].get(scale_id)
        m_n, g_n = (mo or {}).get("n", 0), (go or {}).get("n", 0)
        if m_n == 0 and not ok(g_n):
            continue
        has_mcid = (go or mo or {}).get("mcid") is not None
        shown = referred_ok and outcome_ok(mo, has_mcid)
        group_shown = go is not None and outcome_ok(go, has_mcid) and rest_ok(go, mo, has_mcid)
        row = [label(scale_id)]
        if shown and mo:
            row += [str(m_n), rate_text(mo) if has_mcid else "no MCID",
                    num(mo["mean_improvement"])]
        else:
            row += [small if m_n else "none", "", ""]
        if group_shown and go:
            row += [str(g_n), rate_text(go) if has_mcid else "no MCID",
                    num(go["mean_improvement"])]
        else:
            row += [(str(g_n) if ok(g_n) else small) if g_n else "none", "not shown", ""]
        rows.append(row)
        if has_mcid and (shown or group_shown):
            cats.append(names[scale_id][1] if scale_id in names else scale_id)
            vals.append([100 * mo["mcid_rate"] if shown and mo else None,
                         100 * go["mcid_rate"] if group_shown and go else None])
        if shown and mo and has_mcid and sentences < 3:
            sentences += 1
            lo, hi = mo["mcid_rate_ci95"]
            summary.append(
                f"{pct(mo['mcid_rate'])} of your {m_n} patients with intake and discharge "
                f"scores on the {label(scale_id)} reached a clinically important improvement "
                f"(95% CI {round(100 * lo)}-{round(100 * hi)}%)"
                + (f"; across our clinics, {pct(go['mcid_rate'])} did." if group_shown and go
                   else "."))

    m_nps, g_nps = mine["nps"], group["nps"]
    nps_mine = referred_ok and nps_ok(m_nps)
    rest_nps = {k: g_nps[k] - m_nps[k] for k in ("n", "detractors", "passives", "promoters")}
    nps_group = nps_ok(g_nps) and (rest_nps["n"] == 0 or m_nps["n"] == 0 or nps_ok(rest_nps))
    if nps_mine:
        summary.append("Patient satisfaction (Net Promoter Score, -100 to +100): "
                       f"{nps_text(m_nps)}" + (f"; all our clinics: {nps_text(g_nps)}."
                                               if nps_group else "."))

    def median(block: dict[str, Any], key: str, base: int, is_mine: bool) -> str:
        value = block[key]
        if is_mine and not referred_ok:
            return small if mine["referrals"] else "none"
        return num(value) if value is not None and ok(base) else (small if base else "none")

    def count(value: int, is_mine: bool) -> str:
        return (small if value else "none") if is_mine and not referred_ok else str(value)

    key_rows = [
        ["Patients referred", count(mine["referrals"], True), str(group["referrals"])],
        ["Seen at least once",
         count(mine["evaluated"], True) if seen_ok or not referred_ok else "not shown",
         str(group["evaluated"])],
        ["Completed care",
         count(mine["discharged"], True) if done_ok or not referred_ok else "not shown",
         str(group["discharged"])],
        ["Median days from referral to first visit",
         median(mine, "median_days_to_first_visit", mine["evaluated"], True),
         median(group, "median_days_to_first_visit", group["evaluated"], False)],
        ["Median visits (completed care)",
         median(mine, "median_visits", mine["discharged"], True),
         median(group, "median_visits", group["discharged"], False)],
        ["Net Promoter Score (margin)",
         nps_text(m_nps) if nps_mine else (small if m_nps["n"] else "no answers"),
         nps_text(g_nps) if nps_group else (small if g_nps["n"] else "no answers")],
    ]
    charts: list[Chart] = []
    figures: dict[str, Any] = {"referrals": mine["referrals"] if referred_ok else None,
                               "n_clinics": n_clinics}
    if referred_ok and per_month is not None:
        buckets = referral_buckets(_months(start, end), dict(per_month), min_n)
        if buckets is not None:
            unit, labels, notes, counts = buckets
            figures["referrals_by"] = (unit, counts)
            charts.append(Chart(f"Your referrals per {unit}, all our clinics", labels,
                                ["Referrals"], [[float(c)] for c in counts],
                                category_notes=notes))
    if cats:
        charts.append(Chart("Clinically important improvement", cats,
                            ["Your patients", "All our clinics"], vals, unit="%",
                            note=f"Bars are left out for {small}."))
    if nps_mine or nps_group:
        def dist(block: dict[str, Any], shown: bool) -> list[float | None]:
            if not shown:
                return [None, None, None]
            return [100 * block[k] / block["n"] for k in ("detractors", "passives", "promoters")]

        d_mine, d_group = dist(m_nps, nps_mine), dist(g_nps, nps_group)
        charts.append(Chart("Would you recommend us? (answers)",
                            ["Detractors (0-6)", "Passives (7-8)", "Promoters (9-10)"],
                            ["Your patients", "All our clinics"],
                            [[d_mine[i], d_group[i]] for i in range(3)], unit="%",
                            note=f"Bars are left out for {small}."))
    sources = sorted({short_citation(names[s][2].mcid.source) for s in scales
                      if s in names and names[s][2].mcid is not None})
    methods = [
        f"Patients of our {n_clinics} clinics, counted by the date you referred them "
        f"({period}); satisfaction answers by the date they were given.",
        "A clinically important improvement is a change from intake to discharge of at least "
        "the measure's minimal clinically important difference (MCID); patients whose last "
        "score was a progress score are not in the rates. Rates carry 95% Wilson intervals.",
        "MCID sources: " + ("; ".join(sources) if sources else "none") + ".",
        f"Privacy: no figure resting on {small} is shown. This report holds no patient names, "
        "record numbers, birth dates, dates of service or comments.",
    ]
    by_condition = Table([], [])
    if conditions is not None:
        from outcomes.documents.packets.bycondition import condition_section

        section = condition_section(cast("Database", _GroupCells(conditions)),
                                    int(mine["partner_id"]), start, end, min_n=min_n,
                                    referred_ok=referred_ok)
        figures["conditions"] = section.figures
        # The packet leads with the pooled headline and the partner's largest condition groups.
        summary = [_all_clinics(line) for line in section.lead] + summary
        if section.table.rows:
            by_condition = Table(["Condition (primary measure)", "Your patients",
                                  "Reached MCID (95% CI)", "All our patients",
                                  "All: reached MCID (95% CI)"], section.table.rows)
            methods.insert(2, "By condition: each patient counts once, on a primary measure set "
                           "by body region unless the clinician chose another; groups follow "
                           "the ICD-10-CM diagnosis (which never leaves the clinic), and small "
                           "ones are in 'All other conditions'.")
    return Packet(
        partner_id=int(mine["partner_id"]),
        clinic_name=group_name,
        clinic_contact=contact,
        partner_name=mine["name"],
        partner_detail=mine["kind"] or "",
        period_label=period,
        prepared_label=f"Prepared {today:%B %Y}",
        summary=summary,
        key_figures=Table(["", "Your patients", "All our clinics"], key_rows),
        outcomes=Table(["Measure", "Your patients", "Reached MCID (95% CI)", "Mean change",
                        "All our patients", "All: reached MCID (95% CI)", "All: mean change"],
                       rows),
        charts=charts,
        methods=methods,
        min_n=min_n,
        figures=figures,
        conditions=by_condition,
    )


__all__ = ["build_group_packet"]
