"""Small cells: every figure of the packet, the scorecard (JSON) and the partners table just
below and at each threshold (min_n - 1 and min_n; 2 x min_n - 1 and 2 x min_n for rates of 0%
or 100%), on clinics built here, plus property tests of the rule on random clinics.

The rest of the clinic (another partner's 40 patients, mixed results and answers) is large and
mixed in every case, so only the figure under test is near a threshold.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.documents.packets import render
from outcomes.documents.packets.content import (
    Packet,
    breakdown_ok,
    build_packet,
    count_ok,
    rate_ok,
    referral_buckets,
    shares_ok,
)
from outcomes.measures.nps import add_nps
from outcomes.models import NpsResponse, Partner
from outcomes.network.partners import save_partner
from outcomes.reports.scorecard import scorecard
from outcomes.store.database import open_db, transaction
from tests.clinic_fixture import add_episode, score

MIN_N = 5
START, END, TODAY = date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 1)
SMALL = "fewer than 5 patients"


@dataclass(frozen=True)
class Pt:
    """One referred patient: referral month (2026), seen, completed care, an ODI pair that
    reached the MCID or not (None: no pair), an NPS answer (None: none)."""

    month: int = 1
    seen: bool = True
    done: bool = True
    met: bool | None = None
    nps: int | None = None


def patients(n: int, **kw: Any) -> list[Pt]:
    return [Pt(**kw) for _ in range(n)]


def mixed_rest() -> list[Pt]:
    """40 patients: 20 reach the MCID, 20 do not; NPS 10 detractors, 10 passives, 20
    promoters; referrals spread over six months (enough in each)."""
    return [Pt(month=1 + i % 6, met=i % 2 == 0, nps=(3, 8, 10, 10)[i % 4]) for i in range(40)]


def build(db: Database, mine: list[Pt], rest: list[Pt] | None = None) -> int:
    with transaction(db):
        pid = save_partner(db, Partner(name="Dr. Small", kind="primary care",
                                       stage="active")).id
        other = save_partner(db, Partner(name="Dr. Big", kind="primary care",
                                         stage="active")).id
    for prefix, partner, group in (("M", pid, mine), ("R", other,
                                                      mixed_rest() if rest is None else rest)):
        for i, p in enumerate(group):
            eid = f"{prefix}{i}"
            add_episode(db, eid, partner, date(2026, p.month, 3),
                        3 + i % 4 if p.seen else None, 6 + i % 3 if p.seen else None,
                        p.seen and p.done)
            if p.met is not None:
                score(db, eid, "odi", "intake", 50, date(2026, p.month, 5))
                score(db, eid, "odi", "discharge", 20 if p.met else 45, date(2026, 6, 20))
            if p.nps is not None:
                add_nps(db, NpsResponse(episode_id=eid, score=p.nps, date=date(2026, 6, 25)))
    return pid


def packet_for(db: Database, mine: list[Pt], rest: list[Pt] | None = None) -> Packet:
    return build_packet(db, build(db, mine, rest), START, END, today=TODAY, min_n=MIN_N)


def odi(packet: Packet) -> dict[str, Any]:
    return packet.figures["outcomes"]["odi"]


def key_cell(packet: Packet, row: int, column: int = 1) -> str:
    return packet.key_figures.rows[row][column]


def every_format(packet: Packet) -> dict[str, str]:
    """The packet's text in each format (the PDF's text extracted, whitespace joined)."""
    import io

    from pypdf import PdfReader

    pdf = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(
        render(packet, "pdf"))).pages)
    return {"md": render(packet, "md").decode(), "html": render(packet, "html").decode(),
            "pdf": re.sub(r"\s+", " ", pdf)}


# (figure, the partner's patients, other patients or None for the mixed 40, shown?, check)
# Each check reads the figure from the packet: None when suppressed.
CASES: list[tuple[str, list[Pt], list[Pt] | None, bool]] = [
    # Counts: referred needs min_n.
    ("referrals", patients(4), None, False),
    ("referrals", patients(5), None, True),
    # A count splitting the referred (seen): it and the rest each 0 or >= min_n.
    ("evaluated", patients(4) + patients(6, seen=False), None, False),
    ("evaluated", patients(5) + patients(5, seen=False), None, True),
    ("evaluated", patients(6) + patients(4, seen=False), None, False),  # 4 not seen
    ("discharged", patients(4) + patients(6, done=False), None, False),
    ("discharged", patients(5) + patients(5, done=False), None, True),
    ("discharged", patients(6) + patients(4, seen=False), None, False),  # 4 not completed
    # An outcome row (n, mean change) needs min_n pairs.
    ("odi_n", patients(4, met=True) + patients(6), None, False),
    ("odi_n", patients(3, met=True) + patients(2, met=False) + patients(5), None, True),
    ("odi_mean", patients(2, met=True) + patients(2, met=False) + patients(6), None, False),
    ("odi_mean", patients(3, met=True) + patients(2, met=False) + patients(5), None, True),
    # The MCID rate: min_n patients; 0% or 100% only on 2 x min_n.
    ("odi_rate", patients(2, met=True) + patients(2, met=False) + patients(6), None, False),
    ("odi_rate", patients(3, met=True) + patients(2, met=False) + patients(5), None, True),
    ("odi_rate", patients(5, met=True), None, False),  # "100% of 5"
    ("odi_rate", patients(9, met=True), None, False),
    ("odi_rate", patients(10, met=True), None, True),
    ("odi_rate", patients(9, met=False), None, False),  # 0% of 9
    ("odi_rate", patients(10, met=False), None, True),
    # Medians need min_n patients behind them.
    ("median_days_to_first_visit", patients(4) + patients(6, seen=False), None, False),
    ("median_days_to_first_visit", patients(5) + patients(5, seen=False), None, True),
    ("median_visits", patients(4) + patients(6, done=False), None, False),
    ("median_visits", patients(5) + patients(5, done=False), None, True),
    # NPS: every share 0 or >= min_n answers, none 0%/100% of fewer than 2 x min_n.
    ("nps", patients(4, nps=10) + patients(6), None, False),
    ("nps", patients(5, nps=10) + patients(5), None, False),  # 100% promoters of 5
    ("nps", patients(9, nps=10) + patients(1), None, False),
    ("nps", patients(10, nps=10), None, True),
    ("nps", patients(5, nps=10) + patients(4, nps=3) + patients(1), None, False),
    ("nps", patients(5, nps=10) + patients(5, nps=3), None, True),
    ("nps", patients(6, nps=10) + patients(4, nps=8), None, False),  # 4 passives
    ("nps", patients(5, nps=10) + patients(5, nps=8) + patients(5, nps=2), None, True),
    # Referrals chart: 2 x min_n in all; per month or quarter with no bar of 1 to min_n - 1.
    ("referrals_by", patients(5, month=1) + patients(4, month=2), None, False),
    ("referrals_by", patients(5, month=1) + patients(5, month=2), None, True),
    ("referrals_by", patients(4, month=1) + patients(6, month=5), None, False),
    # The clinic's figures: the rest of the clinic (clinic minus partner) must pass too.
    ("clinic_odi_rate", patients(3, met=True) + patients(3, met=False),
     patients(4, met=False), False),
    ("clinic_odi_rate", patients(3, met=True) + patients(3, met=False),
     patients(3, met=False) + patients(2, met=True), True),
    ("clinic_odi_rate", patients(3, met=True) + patients(3, met=False),
     patients(9, met=True), False),  # the rest: 100% of 9
    ("clinic_odi_rate", patients(3, met=True) + patients(3, met=False),
     patients(10, met=True), True),
    ("clinic_referrals", patients(10), patients(4), False),
    ("clinic_referrals", patients(10), patients(5), True),
    ("clinic_nps", patients(10, nps=10), patients(4, nps=3) + patients(6, nps=10), False),
    ("clinic_nps", patients(10, nps=10), patients(5, nps=3) + patients(5, nps=10), True),
]


def figure(packet: Packet, name: str) -> Any:
    f = packet.figures
    return {
        "odi_n": lambda: odi(packet)["n"],
        "odi_mean": lambda: odi(packet)["mean_improvement"],
        "odi_rate": lambda: odi(packet)["mcid_rate"],
        "clinic_odi_rate": lambda: odi(packet)["clinic_mcid_rate"],
        "clinic_referrals": lambda: f["clinic"]["counts"][0],
        "clinic_nps": lambda: f["clinic"]["nps"],
    }.get(name, lambda: f.get(name))()


@pytest.mark.parametrize(("name", "mine", "rest", "shown"), CASES,
                         ids=[f"{c[0]}-{i}-{'shown' if c[3] else 'hidden'}"
                              for i, c in enumerate(CASES)])
def test_each_packet_figure_at_its_threshold(db: Database, name: str, mine: list[Pt],
                                             rest: list[Pt] | None, shown: bool) -> None:
    packet = packet_for(db, mine, rest)
    value = figure(packet, name)
    assert (value is not None) == shown, (name, value)
    assert_no_small_cell(packet)


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_hidden_figures_are_absent_from_every_format(db: Database, fmt: str) -> None:
    # 6 of 10 seen (4 not seen), ODI 100% of 6, NPS 100% promoters of 6.
    packet = packet_for(db, patients(6, met=True, nps=10) + patients(4, seen=False))
    text = every_format(packet)[fmt]
    assert "You referred 10 patients" in text
    assert "6 were seen" not in text
    assert "100% of your" not in text and "+100 (" not in text
    assert "too few answers in one group" in text and "not shown" in text
    assert odi(packet)["n"] == 6 and odi(packet)["mcid_rate"] is None


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_the_shown_figures_print_in_every_format(db: Database, fmt: str) -> None:
    packet = packet_for(db, patients(3, met=True, nps=10) + patients(2, met=False, nps=3)
                        + patients(5, nps=10))
    text = every_format(packet)[fmt]
    assert "60% of your 5 patients" in text and "Your referrals per month" in text
    assert "Of the 10 patients you referred" in text and "10 were seen" in text


def test_methods_note_states_the_rule(db: Database) -> None:
    packet = packet_for(db, patients(5))
    privacy = next(m for m in packet.methods if m.startswith("Privacy"))
    assert "1 to 4 patients" in privacy and "0% or 100% needs 10 patients" in privacy


# --- the rule as pure functions: just below, at and just above each threshold ---------------

@pytest.mark.parametrize(("n", "ok"), [(0, True), (1, False), (4, False), (5, True), (6, True)])
def test_count_ok(n: int, ok: bool) -> None:
    assert count_ok(n, MIN_N) is ok


@pytest.mark.parametrize(("part", "whole", "ok"), [
    (5, 10, True), (4, 10, False), (6, 10, False),  # 4 left over
    (0, 7, True), (7, 7, True), (5, 9, False), (5, 11, True), (6, 11, True),
])
def test_breakdown_ok(part: int, whole: int, ok: bool) -> None:
    assert breakdown_ok(part, whole, MIN_N) is ok


@pytest.mark.parametrize(("rate", "n", "ok"), [
    (0.5, 4, False), (0.6, 5, True), (1.0, 9, False), (1.0, 10, True), (0.0, 9, False),
    (0.0, 10, True), (0.996, 250, True), (None, 50, False),
])
def test_rate_ok(rate: float | None, n: int, ok: bool) -> None:
    assert rate_ok(rate, n, MIN_N) is ok


@pytest.mark.parametrize(("counts", "ok"), [
    ((0, 0, 9), False), ((0, 0, 10), True), ((0, 5, 5), True), ((0, 4, 6), False),
    ((5, 5, 5), True), ((1, 5, 5), False), ((0, 0, 0), False),
])
def test_shares_ok(counts: tuple[int, int, int], ok: bool) -> None:
    assert shares_ok(counts, MIN_N) is ok


def test_referral_buckets_fall_back_to_quarters_then_to_nothing() -> None:
    months = [f"2026-{m:02d}" for m in range(1, 7)]
    assert referral_buckets(months, {"2026-01": 5, "2026-02": 5}, MIN_N) == (
        "month", ["Jan", "Feb", "Mar", "Apr", "May", "Jun"], ["2026", "", "", "", "", ""],
        [5, 5, 0, 0, 0, 0])
    assert referral_buckets(months, {"2026-01": 6, "2026-02": 4}, MIN_N) == (
        "quarter", ["Q1", "Q2"], ["2026", ""], [10, 0])
    assert referral_buckets(months, {"2026-01": 6, "2026-04": 4}, MIN_N) is None
    assert referral_buckets(months, {"2026-01": 9}, MIN_N) is None  # fewer than 2 x min_n


@given(st.integers(0, 40), st.integers(0, 40), st.integers(1, 12))
def test_a_breakdown_never_lets_a_small_count_out(part: int, extra: int, min_n: int) -> None:
    whole = part + extra
    if breakdown_ok(part, whole, min_n):
        assert all(count_ok(x, min_n) for x in (part, whole - part))


@given(st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)),
       st.integers(1, 12))
def test_shown_shares_never_stand_for_a_small_group(counts: tuple[int, int, int],
                                                    min_n: int) -> None:
    if shares_ok(counts, min_n):
        n = sum(counts)
        assert all(c == 0 or c >= min_n for c in counts)
        assert n >= 2 * min_n or all(0 < c < n for c in counts)


# --- invariants over whole packets ------------------------------------------------------------

def assert_no_small_cell(packet: Packet) -> None:
    """No count of 1 to min_n - 1 is printed or follows from two printed counts; no 0% or
    100% rate on fewer than 2 x min_n patients; every chart bar of counts 0 or >= min_n."""
    min_n = packet.min_n
    for column in (1, 2):
        counts = [int(r[column]) for r in packet.key_figures.rows[:3]
                  if r[column].isdigit()]
        for c in counts:
            assert count_ok(c, min_n), packet.key_figures.rows
        for a in counts:
            for b in counts:
                assert count_ok(abs(a - b), min_n), packet.key_figures.rows
    mine = [r[1] for r in packet.key_figures.rows[:3]]
    clinic = [r[2] for r in packet.key_figures.rows[:3]]
    for m, c in zip(mine, clinic, strict=True):
        if m.isdigit() and c.isdigit():
            assert count_ok(int(c) - int(m), min_n), packet.key_figures.rows
    for row in packet.conditions.rows:  # by condition: each patient once
        for n_cell, rate_cell in ((row[1], row[2]), (row[3], row[4])):
            if n_cell.isdigit():
                assert int(n_cell) >= min_n, row
                if re.match(r"(0|100)% ", rate_cell):
                    assert int(n_cell) >= 2 * min_n, row
    for row in packet.outcomes.rows:
        for n_cell, rate_cell in ((row[1], row[2]), (row[4], row[5])):
            if n_cell.isdigit():
                assert int(n_cell) >= min_n, row
                if re.match(r"(0|100)% ", rate_cell):
                    assert int(n_cell) >= 2 * min_n, row
    for sentence in packet.summary:
        hit = re.search(r"(\d+)% of your (\d+) patients", sentence)
        if hit and hit.group(1) in ("0", "100"):
            assert int(hit.group(2)) >= 2 * min_n, sentence
    for chart in packet.charts:
        if not chart.unit:
            assert all(count_ok(int(v[0] or 0), min_n) for v in chart.values), chart
    shares = packet.figures.get("nps_shares")
    if shares and shares[0] is not None:
        n = int(re.search(r"(\d+) answers", key_cell(packet, 5)).group(1))  # type: ignore[union-attr]
        counts = [round(s * n / 100) for s in shares]
        assert shares_ok(tuple(counts), min_n), (counts, n)


patient = st.builds(Pt, month=st.integers(1, 6), seen=st.booleans(), done=st.booleans(),
                    met=st.none() | st.booleans(), nps=st.none() | st.integers(0, 10))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mine=st.lists(patient, min_size=0, max_size=16),
       rest=st.lists(patient, min_size=0, max_size=12))
def test_no_packet_of_a_random_clinic_shows_a_small_cell(tmp_path: Path, mine: list[Pt],
                                                          rest: list[Pt]) -> None:
    path = tmp_path / f"h{abs(hash((tuple(mine), tuple(rest))))}.db"
    path.unlink(missing_ok=True)
    db = open_db(path)
    try:
        assert_no_small_cell(packet_for(db, mine, rest))
    finally:
        db.close()


# --- the scorecard (the clinic's own report): null under min_n, shown at min_n -------------

SUPPRESSED_PATHS = [
    ("outcomes", "odi", "mean_intake"), ("outcomes", "odi", "mean_final"),
    ("outcomes", "odi", "mean_improvement"), ("outcomes", "odi", "mcid_rate"),
    ("outcomes", "odi", "mcid_rate_ci95"), ("median_days_to_first_visit",),
    ("median_visits",), ("nps", "score"), ("nps", "moe95"),
]


@pytest.mark.parametrize("path", SUPPRESSED_PATHS, ids=lambda p: ".".join(p))
@pytest.mark.parametrize("n", [MIN_N - 1, MIN_N])
def test_scorecard_json_figure_at_min_n(db: Database, path: tuple[str, ...], n: int) -> None:
    pid = build(db, [Pt(met=i % 2 == 0, nps=(3, 10)[i % 2]) for i in range(n)])
    data = scorecard(db, START, END, min_n=MIN_N, partner_ids=[pid]).as_dict()
    value: Any = data["partners"][0]
    for key in path:
        value = value[key]
    assert (value is not None) == (n >= MIN_N), (path, value)
    block = data["partners"][0]["outcomes"]["odi"]
    assert block.get("suppressed", False) == (n < MIN_N)
    assert data["partners"][0]["nps"].get("suppressed", False) == (n < MIN_N)
    assert data["partners"][0]["outcomes"]["odi"]["n"] == n  # counts stay


@pytest.mark.parametrize("n", [MIN_N - 1, MIN_N])
def test_scorecard_carried_forward_block_at_min_n(db: Database, n: int) -> None:
    pid = build(db, patients(1))
    for i in range(n):
        eid = f"CF{i}"
        add_episode(db, eid, pid, date(2026, 2, 1), 3, 5, True, "self_discharged")
        score(db, eid, "odi", "intake", 50, date(2026, 2, 5))
        score(db, eid, "odi", "progress", 20, date(2026, 3, 5))
    block = scorecard(db, START, END, min_n=MIN_N, partner_ids=[pid]).partner(pid)
    carried = block.outcomes["odi"].carried_forward
    assert carried is not None and carried.n == n
    assert (carried.mean_improvement is not None) == (n >= MIN_N)
    assert carried.suppressed == (n < MIN_N)


# --- the partners table of the dashboard ------------------------------------------------------

@pytest.mark.parametrize("n", [MIN_N - 1, MIN_N])
def test_partners_table_rates_at_min_n(db_path: Path, n: int) -> None:
    from textual.widgets import DataTable

    from outcomes_tui.app import make_app

    db = open_db(db_path)
    # Referred in the last 12 months before TODAY; half reach the MCID, NPS mixed.
    build(db, [Pt(month=3, met=i % 2 == 0, nps=(3, 10)[i % 2]) for i in range(n)])
    db.close()
    app = make_app(db_path, today=TODAY)
    cells: dict[str, list[str]] = {}

    async def main() -> None:
        async with app.run_test(size=(140, 30)) as pilot:
            for key in ("", "f3"):
                if key:
                    await pilot.press(key)
                for _ in range(5):  # the workers are awaited, never slept on
                    await app.workers.wait_for_complete()
                    await pilot.pause()
            assert type(app.screen).__name__ == "PartnersScreen"
            table = app.screen.query_one(DataTable)
            for i in range(table.row_count):
                row = [str(c) for c in table.get_row_at(i)]
                cells[row[0]] = row

    asyncio.run(main())
    nps_cell, mcid_cell = cells["Dr. Small"][6], cells["Dr. Small"][7]
    if n < MIN_N:
        assert nps_cell == mcid_cell == f"n<{MIN_N}"
    else:
        assert re.fullmatch(r"[+-]?\d+", nps_cell) and re.fullmatch(r"\d+%", mcid_cell)


@pytest.mark.parametrize("n", [
    MIN_N - 1,
    MIN_N,
])
def test_partner_screen_scorecard_table_at_min_n(db_path: Path, n: int) -> None:
    from textual.widgets import DataTable

    from outcomes_tui.app import make_app
    from outcomes_tui.screens.partner_detail import PartnerDetailScreen

    db = open_db(db_path)
    pid = build(db, [Pt(month=3, met=i % 2 == 0, nps=(3, 10)[i % 2]) for i in range(n)])
    db.close()
    app = make_app(db_path, today=TODAY)
    rows: dict[str, list[str]] = {}

    async def main() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            for step in ("", "open"):
                if step:
                    app.push_screen(PartnerDetailScreen(pid))
                for _ in range(5):
                    await app.workers.wait_for_complete()
                    await pilot.pause()
            table = app.screen.query_one("#scorecard", DataTable)
            for i in range(table.row_count):
                row = [str(c) for c in table.get_row_at(i)]
                rows[row[0]] = row

    asyncio.run(main())
    mcid = next(v for k, v in rows.items() if "reached MCID" in k)[1]
    nps = rows["NPS (12 mo)"][1]
    if n < MIN_N:
        assert mcid.startswith("—") and not re.search(r"\d+%", mcid), mcid
        assert not re.match(r"[+-]\d", nps), nps
    else:
        assert re.match(r"\d+%", mcid) and re.match(r"[+-]\d+ \(n=5\)", nps), (mcid, nps)
