"""The packet's lead and its by-condition table: each patient once, small groups never shown
nor derivable within a split, the procedure rows that nest in a group checked too."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.documents.packets import build_packet
from outcomes.documents.packets.bycondition import (
    OTHER_CONDITIONS,
    OTHER_PROCEDURES,
    Cell,
    _nests,
    cell_ok,
    shown_split,
)
from outcomes.documents.packets.content import Packet, rate_ok
from tests.conftest import DEMO_TODAY

DEMO_START = date(2025, 11, 23)
MIN_N = 5


@pytest.mark.parametrize(("cell", "ok"), [
    (Cell(0, 0, 0), True),     # nothing: may be printed ("none")
    (Cell(4, 4, 2), False),    # under min_n
    (Cell(5, 5, 2), True),     # at min_n, a rate of 40%
    (Cell(5, 5, 5), False),    # 100% of 5 states every patient's result
    (Cell(9, 9, 0), False),    # 0% needs 2 x min_n
    (Cell(10, 10, 0), True),   # ... and has it
    (Cell(6, 4, 2), False),    # 6 patients but the rate rests on 4
    (Cell(6, 0, 0), True),     # no measure with an MCID: a count only
])
def test_cell_ok_at_its_edges(cell: Cell, ok: bool) -> None:
    assert cell_ok(cell, MIN_N) is ok


def test_a_remainder_under_min_n_pulls_the_smallest_group_in() -> None:
    groups = {"A": Cell(10, 10, 6), "B": Cell(7, 7, 3), "C": Cell(2, 2, 1)}
    total = Cell(19, 19, 10)
    # 19 - 10 - 7 = 2 left: B must join the remainder (2 + 7 = 9).
    assert shown_split(groups, total, MIN_N) == (["A"], Cell(9, 9, 4))
    # Two small groups of 3 and 2 leave a remainder of 5: both large groups show.
    groups["C"], groups["D"] = Cell(3, 3, 1), Cell(2, 2, 1)
    assert shown_split(groups, Cell(22, 22, 11), MIN_N) == (["A", "B"], Cell(5, 5, 2))
    # A remainder of exactly 0 is fine.
    assert shown_split({"A": Cell(6, 6, 3)}, Cell(6, 6, 3), MIN_N) == (["A"], Cell())
    # A remainder whose rate may not be printed (100% of 5) counts as small too: B (100% of
    # 5) is never shown, and A alone would leave it as the remainder, so nothing is split.
    assert shown_split({"A": Cell(6, 6, 3), "B": Cell(5, 5, 5)}, Cell(11, 11, 8),
                       MIN_N) == ([], Cell(11, 11, 8))


@given(sizes=st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=6),
       min_n=st.integers(2, 6))
def test_a_split_never_shows_or_leaves_a_small_group(sizes: list[tuple[int, int]],
                                                     min_n: int) -> None:
    cells = {f"G{i}": Cell(n, n, min(met, n)) for i, (n, met) in enumerate(sizes)}
    total = Cell()
    for cell in cells.values():
        total = total + cell
    shown, rest = shown_split(cells, total, min_n)
    for name in shown:
        assert cells[name].n >= min_n and cell_ok(cells[name], min_n)
    if shown:
        assert cell_ok(rest, min_n)
    summed = rest
    for name in shown:
        summed = summed + cells[name]
    assert summed == total
    assert [cells[n].n for n in shown] == sorted((cells[n].n for n in shown), reverse=True)


def test_a_procedure_nesting_in_a_group_with_a_small_difference_is_dropped() -> None:
    groups = {"After knee replacement": Cell(9, 9, 5)}
    procedures = {"Total knee arthroplasty": Cell(7, 7, 4)}
    cross = {("After knee replacement", "Total knee arthroplasty"): Cell(7, 7, 4)}
    # 9 - 7 = 2 patients after knee replacement without the procedure: derivable, small.
    assert _nests(groups, procedures, cross, ["After knee replacement"],
                  "Total knee arthroplasty", MIN_N)
    # Equal sets give nothing away.
    groups["After knee replacement"] = Cell(7, 7, 4)
    assert not _nests(groups, procedures, cross, ["After knee replacement"],
                      "Total knee arthroplasty", MIN_N)
    # A group not shown is not a difference a reader can take.
    groups["After knee replacement"] = Cell(9, 9, 5)
    assert not _nests(groups, procedures, cross, [], "Total knee arthroplasty", MIN_N)


def _check_conditions(packet: Packet) -> None:
    """Every count printed in the table is 0 or >= min_n, every rate may be printed, and the
    rows of each split add up to the first row (so nothing hides in a difference)."""
    min_n = packet.min_n
    rows = packet.conditions.rows
    if not rows:
        return
    for row in rows:
        for n_cell, rate_cell in ((row[1], row[2]), (row[3], row[4])):
            if n_cell.isdigit() and int(n_cell):
                assert int(n_cell) >= min_n, row
                hit = re.match(r"(\d+)% ", rate_cell)
                if hit:
                    assert rate_ok(int(hit.group(1)) / 100, int(n_cell), min_n) or \
                        int(hit.group(1)) not in (0, 100), row
    pooled = rows[0]
    for column in (1, 3):
        if not pooled[column].isdigit():
            continue
        for start, other in ((1, OTHER_CONDITIONS), (None, "Procedure: " + OTHER_PROCEDURES)):
            names = [r[0] for r in rows]
            if other not in names:
                continue
            end = names.index(other)
            begin = 1 if start else max(i for i, r in enumerate(names[:end])
                                        if not r.startswith("Procedure: ")) + 1
            part = [r[column] for r in rows[begin:end + 1]]
            if all(p.isdigit() or p == "none" for p in part):
                assert sum(int(p) for p in part if p.isdigit()) == int(pooled[column]), rows


def test_dubois_packet_leads_with_her_largest_groups(demo_db: Database) -> None:
    """Issue 18, done when: her packet leads with her largest condition groups and a pooled
    headline resting on at least as many patients as her largest single-measure row; no
    figure rests on fewer than min_n patients."""
    pid = demo_db.execute("SELECT id FROM partners WHERE name = 'Dr. Chloe Dubois'"
                          ).fetchone()[0]
    packet = build_packet(demo_db, pid, DEMO_START, DEMO_TODAY, today=DEMO_TODAY)
    shown = packet.figures["conditions"]
    headline = packet.summary[0]
    hit = re.match(r"(\d+) of (\d+) of your patients reached a clinically important "
                   r"improvement on their primary measure \((\d+)%, 95% CI (\d+)-(\d+)%\); "
                   r"clinic (\d+)%\.$", headline)
    assert hit, headline
    n_pooled = int(hit.group(2))
    assert shown["primary"] == (n_pooled, int(hit.group(1)))
    largest_measure = max(v["n"] or 0 for v in packet.figures["outcomes"].values())
    assert n_pooled >= largest_measure >= MIN_N
    groups = [g for g in shown["groups"] if g != OTHER_CONDITIONS]
    assert len(groups) >= 2
    assert packet.summary[1].startswith("By condition: after ")
    for name in groups[:3]:
        assert name.lower() in packet.summary[1]
    # Largest first, each on at least min_n patients.
    sizes = [shown["groups"][g][0] for g in groups]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) >= MIN_N
    _check_conditions(packet)


def test_every_demo_packet_keeps_the_conditions_table_safe(demo_db: Database) -> None:
    ids = [r[0] for r in demo_db.execute("SELECT id FROM partners ORDER BY id")]
    led = 0
    for pid in ids:
        packet = build_packet(demo_db, pid, DEMO_START, DEMO_TODAY, today=DEMO_TODAY)
        _check_conditions(packet)
        primary = packet.figures["conditions"]["primary"]
        if primary is not None:
            assert primary[0] >= packet.min_n
            led += 1
        for name, (n, _met) in packet.figures["conditions"]["groups"].items():
            assert n == 0 or n >= packet.min_n, (pid, name, n)
        for name, (n, _met) in packet.figures["conditions"]["procedures"].items():
            assert n == 0 or n >= packet.min_n, (pid, name, n)
    assert led >= 10  # the rule does not simply hide everything
