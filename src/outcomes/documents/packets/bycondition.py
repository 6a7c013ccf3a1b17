"""The packet's lead and its "by condition" table: each patient counted once, on the primary
measure, pooled and split by condition group and by procedure, partner beside the clinic.

The small-cell rule is the packet's (``content.count_ok``, ``content.rate_ok``), extended to the
two things a partition adds:

- The rows of one split add up to the pooled row, so a group left out could be had by
  subtraction. Each split therefore shows an explicit remainder row ("All other conditions")
  and the remainder must pass the same test as any row (none, or ``min_n`` patients with a
  rate that may be printed); when it does not, the smallest group shown joins the remainder,
  until it does or no group is left.
- A procedure row whose patients all fall in one condition group (every total knee
  arthroplasty is "After knee replacement") nests in it: the difference of the two rows is a
  group of its own. A procedure row is dropped when such a difference would be a small group
  (or a rate that may not be printed), and the same holds in the other direction.

The clinic's figure beside a row follows the rule of the per-measure table: the clinic's row
and the rest of the clinic (clinic minus this partner) must each pass; the clinic's remainder
row too, else the clinic's group figures are all left out (its pooled figure stays when it
passes on its own).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.documents.packets.content import Table, count_ok, fewer, pct, rate_ok
from outcomes.reports.scorecard import primary_cells
from outcomes.reports.statistics import wilson

OTHER_CONDITIONS = "All other conditions"
OTHER_PROCEDURES = "No procedure, or another"
LEAD_GROUPS = 3
"""The packet leads with at most this many condition groups (the largest that may be shown)."""


@dataclass(frozen=True)
class Cell:
    """Patients with a primary-measure pair: how many, how many could be judged against an
    MCID and how many reached it."""

    n: int = 0
    judged: int = 0
    met: int = 0

    def __add__(self, other: Cell) -> Cell:
        return Cell(self.n + other.n, self.judged + other.judged, self.met + other.met)

    def __sub__(self, other: Cell) -> Cell:
        return Cell(self.n - other.n, self.judged - other.judged, self.met - other.met)

    @property
    def rate(self) -> float | None:
        return self.met / self.judged if self.judged else None


def cell_ok(cell: Cell, min_n: int) -> bool:
    """A row may be printed: none, or at least ``min_n`` patients and a rate that may be."""
    if cell.n == 0:
        return True
    return count_ok(cell.n, min_n) and (cell.judged == 0 or (
        count_ok(cell.judged, min_n) and rate_ok(cell.rate, cell.judged, min_n)))


def shown_split(cells: dict[str, Cell], total: Cell, min_n: int) -> tuple[list[str], Cell]:
    """The rows of one split that may be printed, largest first, and the remainder row."""
    shown = sorted((name for name, c in cells.items() if c.n >= min_n and cell_ok(c, min_n)),
                   key=lambda name: (-cells[name].n, name.casefold()))
    while True:
        rest = total
        for name in shown:
            rest = rest - cells[name]
        if cell_ok(rest, min_n) or not shown:
            return shown, rest
        shown.pop()  # the smallest joins the remainder


def _nests(groups: dict[str, Cell], procedures: dict[str, Cell],
           cross: dict[tuple[str, str], Cell], group_rows: list[str], procedure: str,
           min_n: int) -> bool:
    """Whether a procedure row would give away a small group by difference with a shown
    condition row it nests in (or that nests in it)."""
    p = procedures[procedure]
    for group in group_rows:
        both = cross.get((group, procedure), Cell())
        if both.n == 0:
            continue
        g = groups[group]
        if both.n == p.n and not cell_ok(g - p, min_n):
            return True  # the procedure lies inside the group
        if both.n == g.n and not cell_ok(p - g, min_n):
            return True  # the group lies inside the procedure
    return False


@dataclass(frozen=True)
class Side:
    """One column (the partner's or the clinic's) of the by-condition table."""

    total: Cell
    groups: dict[str, Cell]
    procedures: dict[str, Cell]
    cross: dict[tuple[str, str], Cell]


def _sides(db: Database, start: date, end: date, partner_id: int) -> tuple[Side, Side]:
    def empty() -> dict[str, Any]:
        return {"total": Cell(), "groups": defaultdict(Cell), "procedures": defaultdict(Cell),
                "cross": defaultdict(Cell)}

    mine, clinic = empty(), empty()
    for key, group, procedure, n, met, judged, _surgical in primary_cells(db, start, end):
        cell = Cell(int(n), int(judged), int(met))
        for side, wanted in ((mine, key == partner_id), (clinic, True)):
            if not wanted:
                continue
            side["total"] = side["total"] + cell
            name = group or "Other condition"
            side["groups"][name] += cell
            if procedure:
                side["procedures"][procedure] += cell
                side["cross"][(name, procedure)] += cell
    return Side(**mine), Side(**clinic)


def _in_sentence(name: str) -> str:
    """A group name inside a sentence: "after knee replacement", but "ACL reconstruction"."""
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


@dataclass(frozen=True)
class ConditionSection:
    lead: list[str]
    """The packet's first sentences: the pooled headline and the largest condition groups."""
    table: Table
    figures: dict[str, Any]
    """What is shown, for tests: {"primary": (n, met) or None, "groups": {name: (n, met)},
    "procedures": {...}, "clinic_primary": rate or None, "clinic": {name: rate}}."""
    group_names: list[str]
    """The condition groups shown, largest first (the lead names the first few)."""


def condition_section(db: Database, partner_id: int, start: date, end: date, *,
                      min_n: int, referred_ok: bool) -> ConditionSection:
    """The lead sentences and the by-condition table of one partner's packet."""
    mine, clinic = _sides(db, start, end, partner_id)
    small = fewer(min_n)

    def clinic_ok(c: Cell, m: Cell) -> bool:
        return c.n >= min_n and cell_ok(c, min_n) and cell_ok(c - m, min_n)

    primary_ok = referred_ok and mine.total.n >= min_n and cell_ok(mine.total, min_n) and \
        mine.total.judged > 0
    clinic_primary_ok = clinic.total.judged > 0 and clinic_ok(clinic.total, mine.total)

    groups, group_rest = shown_split(mine.groups, mine.total, min_n) if primary_ok \
        else ([], mine.total)
    candidates = {k: v for k, v in mine.procedures.items()
                  if not _nests(mine.groups, mine.procedures, mine.cross, groups, k, min_n)}
    procedures, procedure_rest = shown_split(candidates, mine.total, min_n) if primary_ok \
        else ([], mine.total)
    # A procedure row that repeats a condition row (every total knee arthroplasty is in
    # "After knee replacement", and no one else is) says nothing new and is left out (the
    # packet has two pages); when no procedure row is left, neither is the remainder.
    # Leaving out a row never makes another derivable: it equals a row still shown.
    procedures = [p for p in procedures if not any(
        mine.cross.get((g, p), Cell()) == mine.procedures[p] == mine.groups[g]
        for g in groups)]

    # The clinic's figures beside the partner's rows: each passes with its rest, and so does
    # the clinic's remainder of each split; else none of the clinic's split figures show.
    def clinic_split(names: list[str], cells: dict[str, Cell], mine_cells: dict[str, Cell],
                     mine_rest: Cell) -> dict[str, Cell] | None:
        shown = {n: cells[n] for n in names if n in cells and clinic_ok(cells[n], mine_cells[n])}
        rest = clinic.total
        for cell in shown.values():
            rest = rest - cell
        if not (cell_ok(rest, min_n) and cell_ok(rest - mine_rest, min_n)):
            return None
        return shown

    clinic_groups = clinic_split(groups, clinic.groups, mine.groups, group_rest) \
        if clinic_primary_ok else None
    clinic_procs = clinic_split(procedures, clinic.procedures, mine.procedures,
                                procedure_rest) if clinic_primary_ok else None

    def rate_cell(c: Cell, sep: str = " (") -> str:
        """"82% (66-91%)", or with ``sep=", 95% CI "`` "82%, 95% CI 66-91%"."""
        interval = wilson(c.met, c.judged)
        if interval is None or c.rate is None:
            return "no MCID"
        lo, hi = interval
        tail = ")" if sep == " (" else ""
        return f"{pct(c.rate)}{sep}{round(100 * lo)}-{round(100 * hi)}%{tail}"

    def mine_cells(c: Cell, shown: bool) -> list[str]:
        if shown and c.n:
            return [str(c.n), rate_cell(c)]
        return ["none", ""] if c.n == 0 else [small if c.n < min_n else "not shown", ""]

    def clinic_cells(c: Cell | None, shown: bool) -> list[str]:
        if shown and c is not None:
            return [str(c.n), rate_cell(c)] if c.n else ["none", ""]
        return ["not shown", ""]

    rows: list[list[str]] = []
    figures: dict[str, Any] = {"groups": {}, "procedures": {}, "clinic": {}}
    figures["primary"] = (mine.total.n, mine.total.met) if primary_ok else None
    figures["clinic_primary"] = clinic.total.rate if clinic_primary_ok else None
    rows.append(["All conditions (each patient once)", *mine_cells(mine.total, primary_ok),
                 *clinic_cells(clinic.total, clinic_primary_ok)])
    for title, names, cells, rest, other, clinic_shown, key in (
            ("", groups, mine.groups, group_rest, OTHER_CONDITIONS, clinic_groups, "groups"),
            ("Procedure: ", procedures, mine.procedures, procedure_rest, OTHER_PROCEDURES,
             clinic_procs, "procedures")):
        if not names:
            continue
        for name in names:
            c = cells[name]
            figures[key][name] = (c.n, c.met)
            theirs = clinic_shown.get(name) if clinic_shown is not None else None
            if theirs is not None:
                figures["clinic"][f"{key}:{name}"] = theirs.rate
            rows.append([title + name, *mine_cells(c, True),
                         *clinic_cells(theirs, theirs is not None)])
        clinic_rest = None
        if clinic_shown is not None:
            clinic_rest = clinic.total
            for cell in clinic_shown.values():
                clinic_rest = clinic_rest - cell
        figures[key][other] = (rest.n, rest.met)
        rows.append([title + other, *mine_cells(rest, True),
                     *clinic_cells(clinic_rest, clinic_rest is not None and
                                   clinic_rest.n >= min_n)])
    lead: list[str] = []
    if primary_ok:
        lead.append(
            f"{mine.total.met} of {mine.total.judged} of your patients reached a clinically "
            "important improvement on their primary measure "
            f"({rate_cell(mine.total, ', 95% CI ')})"
            + (f"; clinic {pct(clinic.total.rate or 0.0)}." if clinic_primary_ok else "."))
        if groups:
            parts = []
            for name in groups[:LEAD_GROUPS]:
                c = mine.groups[name]
                theirs = clinic_groups.get(name) if clinic_groups is not None else None
                part = f"{_in_sentence(name)} ({c.n} patients, {pct(c.rate or 0.0)} improved"
                part += f"; clinic {pct(theirs.rate or 0.0)})" if theirs is not None else ")"
                parts.append(part)
            lead.append("By condition: " + "; ".join(parts) + ".")
    elif referred_ok and mine.total.n:
        lead.append(f"Results on the primary measure are not shown for {small}"
                    + (f"; clinic {pct(clinic.total.rate or 0.0)}." if clinic_primary_ok
                       else "."))
    table = Table(["Condition (primary measure)", "Your patients", "Reached MCID (95% CI)",
                   "Clinic patients", "Clinic: reached MCID (95% CI)"], rows
                  if primary_ok or clinic_primary_ok else [])
    return ConditionSection(lead, table, figures, groups)
