"""The packet's evidence figures: the time-to-recovery step chart and observed minus expected.

The step chart appears exactly when the partner's curve rests on ``min_n`` patients, each line
stops where fewer than ``min_n`` patients are still followed, and the clinic's line needs the
rest of the clinic to pass too; the weekly shares are worked out by hand. Observed minus
expected appears exactly when the clinic's model validates and rests on ``min_n`` of the
partner's patients, and its number is ``reports.adjusted``'s.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlite_utils import Database

from outcomes.documents.packets import build_packet, render
from outcomes.documents.packets import evidence as ev
from outcomes.documents.packets.charts import step_layout, step_table, svg
from outcomes.documents.packets.content import StepChart
from outcomes.models import Partner
from outcomes.network.partners import save_partner
from outcomes.periods import Period, default_period
from outcomes.reports import adjusted as adjusted_report
from outcomes.reports import recovery as rec
from outcomes.reports.riskmodel import Adjusted
from outcomes.store.database import transaction
from tests.clinic_fixture import add_episode, score

MIN_N = 5
START, END, TODAY = date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 1)
DEMO_TODAY = date(2026, 11, 22)
DEMO_PERIOD = default_period(DEMO_TODAY)
CENSORED_DAY = 70


def build(db: Database, mine: list[int | None], rest: list[int | None]) -> int:
    """Two partners whose ODI patients recover in the given week from the first visit (on day
    7w - 2, inside week w) or not at all (None: censored at day 70, their discharge score;
    the others are discharged that day too). Returns the first."""
    with transaction(db):
        pid = save_partner(db, Partner(name="Dr. Curve", kind="orthopedic surgeon", stage="active")).id
        other = save_partner(db, Partner(name="Dr. Rest", kind="orthopedic surgeon", stage="active")).id
    for prefix, partner, weeks in (("M", pid, mine), ("R", other, rest)):
        for i, week in enumerate(weeks):
            eid = f"{prefix}{i}"
            referred = date(2026, 1, 5) + timedelta(days=i)
            add_episode(db, eid, partner, referred, 3, 8, False)
            first = referred + timedelta(days=3)
            score(db, eid, "odi", "intake", 50, first)
            if week is not None:
                score(db, eid, "odi", "progress", 20, first + timedelta(days=7 * week - 2))
            score(db, eid, "odi", "discharge", 48 if week is None else 20,
                  first + timedelta(days=CENSORED_DAY))
    return pid


def pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(
        page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages))


# ---------------------------------------------------------------- the step chart


@pytest.mark.parametrize(("mine", "shown"), [
    ([2, 3, None, None], False),  # min_n - 1 patients
    ([2, 3, 4, None, None], True),  # min_n
])
def test_the_chart_appears_exactly_when_the_curve_rests_on_min_n(
        db: Database, mine: list[int | None], shown: bool) -> None:
    pid = build(db, mine, [3, 4, 5, 6, None] * 4)
    packet = build_packet(db, pid, START, END, today=TODAY, min_n=MIN_N)
    assert (packet.recovery_chart is not None) is shown
    texts = {"md": render(packet, "md").decode(), "html": render(packet, "html").decode(),
             "pdf": pdf_text(render(packet, "pdf"))}
    for fmt, text in texts.items():
        assert ("weeks from the first visit" in text) is shown, fmt
    if shown:
        # Days 12, 19, 26 recovered, two censored at 70: 5 at risk at day 12 (4/5 left), ...
        # Followed into week 3 (after day 14): 4 patients, fewer than min_n, so the line
        # stops at week 2.
        assert packet.figures["recovery"]["chart"]["mine"] == [100.0, 100.0, 80.0]
        assert "<svg" in texts["html"] and "| 2 | 80% |" in texts["md"]


def test_the_line_follows_the_curve_until_fewer_than_min_n_are_followed(db: Database) -> None:
    # Ten patients: recoveries in weeks 1, 2, 2, 3, 4, 6; four censored at day 70.
    mine: list[int | None] = [1, 2, 2, 3, 4, 6, None, None, None, None]
    pid = build(db, mine, [3, 4, 5, 6, None] * 4)
    packet = build_packet(db, pid, START, END, today=TODAY, min_n=MIN_N)
    line = packet.figures["recovery"]["chart"]["mine"]
    # Recovery days 5, 12, 12, 19, 26, 40, four censored at 70. By hand: 9/10 after day 5,
    # x 7/9 after day 12 (0.7), x 6/7 after day 19 (0.6), x 5/6 after day 26 (0.5), x 4/5
    # after day 40 (0.4); week 5 holds 0.5. Followed into week w (days > 7(w-1)): 10, 9, 7,
    # 6, 5, 5, then 4 into week 7, so the line stops at week 6.
    assert line == pytest.approx([100, 90, 70, 60, 50, 50, 40])


@pytest.mark.parametrize(("rest", "clinic_shown"), [
    ([], True),  # the clinic is the partner: nothing to subtract
    ([3, 4, None, None], False),  # the rest of the clinic: min_n - 1
    ([3, 4, 5, None, None], True),  # min_n
])
def test_the_clinic_line_needs_the_rest_of_the_clinic(db: Database, rest: list[int | None],
                                                     clinic_shown: bool) -> None:
    pid = build(db, [1, 2, 2, 3, 4, 6, None, None, None, None], rest)
    packet = build_packet(db, pid, START, END, today=TODAY, min_n=MIN_N)
    assert packet.recovery_chart is not None
    assert (packet.figures["recovery"]["chart"]["clinic"] is not None) is clinic_shown
    sentence = next(s for s in packet.summary if s.startswith("Median time to a clinically"))
    assert ("; clinic " in sentence) is clinic_shown


@pytest.mark.parametrize(("n", "reaches_zero"), [(9, False), (10, True)])
def test_a_line_reads_0_percent_only_on_2_x_min_n(db: Database, n: int,
                                                   reaches_zero: bool) -> None:
    pid = build(db, [2] * n, [3, 4, 5, 6, None] * 4)
    packet = build_packet(db, pid, START, END, today=TODAY, min_n=MIN_N)
    line = packet.figures["recovery"]["chart"]["mine"]
    assert (0.0 in line) is reaches_zero
    assert line[:2] == [100.0, 100.0]


def test_the_median_sentence_and_the_chart_agree_with_reports_recovery(db: Database) -> None:
    from outcomes.reports.recovery import not_recovered_by_week, recovery_curve

    pid = build(db, [1, 2, 2, 3, 4, 6, None, None, None, None], [3, 4, 5, 6, None] * 4)
    packet = build_packet(db, pid, START, END, today=TODAY, min_n=MIN_N)
    mine = recovery_curve(db, pid, Period(START, END), min_n=MIN_N)
    weekly = not_recovered_by_week(mine, rec.WEEKS)
    assert weekly is not None
    line = packet.figures["recovery"]["chart"]["mine"]
    assert line == weekly[:len(line)]
    assert packet.figures["recovery"]["median_days"] == mine.median_days
    assert any(s.startswith("Median time to a clinically important improvement")
               for s in packet.summary)


@pytest.mark.parametrize(("days", "shares", "min_n", "weeks"), [
    ([12, 19, 26, 70, 70], [100, 100, 80, 60, 40], 5, 2),  # 4 followed into week 3
    ([12, 19, 26, 70, 70], [100, 100, 80, 60, 40], 4, 3),  # 3 followed into week 4
    ([12] * 9, [100, 100, 0], 5, 1),  # 0% of 9: needs 10
    ([12] * 10, [100, 100, 0], 5, 2),  # 0% of 10
    ([3, 4], [100, 0], 1, 1),  # the line ends with the samples
    ([], [100], 5, 0),  # week 0 always
])
def test_followed_weeks(days: list[int], shares: list[float], min_n: int, weeks: int) -> None:
    assert rec.followed_weeks(days, shares, min_n) == weeks


@given(st.lists(st.integers(0, 200), max_size=40), st.integers(1, 8))
def test_every_week_drawn_is_followed_by_min_n(days: list[int], min_n: int) -> None:
    shares = [50.0] * (rec.WEEKS + 1)
    last = rec.followed_weeks(days, shares, min_n)
    assert all(rec.followed(days, w) >= min_n for w in range(1, last + 1))
    if last < rec.WEEKS:
        assert rec.followed(days, last + 1) < min_n


@given(st.lists(st.integers(0, 200), max_size=30), st.lists(st.integers(0, 200), max_size=30),
       st.integers(1, 8))
def test_the_rest_of_the_clinic_is_never_a_small_group(mine: list[int], others: list[int],
                                                       min_n: int) -> None:
    last = rec.rest_followed_weeks(mine, mine + others, min_n)
    for week in range(1, last + 1):
        rest = rec.followed(others, week)
        assert rest == 0 or rest >= min_n


def test_the_chart_is_black_and_grey_with_labelled_axes() -> None:
    from outcomes.documents.packets.charts import Line, Text

    chart = StepChart("Time to recovery", ["Your patients", "All clinic patients"],
                      [[100.0, 90.0, 70.0], [100.0, 95.0, 80.0, 60.0]])
    shapes = step_layout(chart, 500, 150)
    texts = [s.text for s in shapes if isinstance(s, Text)]
    assert "weeks from the first visit" in texts and "share not yet recovered" in texts
    assert {"0%", "50%", "100%", "70%", "60%"} <= set(texts)  # ticks, and each line's end
    lines = [s for s in shapes if isinstance(s, Line)]
    solid = {s.width for s in lines if s.grey == 0 and not s.dash}
    dashed = {(s.grey, s.width) for s in lines if s.dash}
    assert max(solid) >= 2 and dashed == {(110, 1.8)}  # told apart without colour
    assert 'stroke-dasharray="4 3"' in svg(chart)
    assert step_table(chart).rows == [["0", "100%", "100%"], ["2", "70%", "80%"],
                                      ["3", "", "60%"]]


# ---------------------------------------------------------------- observed minus expected


def dubois(db: Database) -> int:
    return int(db.execute("SELECT id FROM partners WHERE name = 'Dr. Chloe Dubois'")
               .fetchone()[0])


def test_no_model_no_section(demo_db: Database) -> None:
    packet = build_packet(demo_db, dubois(demo_db), DEMO_PERIOD.start, DEMO_PERIOD.end,
                          today=DEMO_TODAY)
    assert packet.adjusted == [] and packet.figures["adjusted"] is None
    for fmt in ("md", "html"):
        text = render(packet, fmt).decode()
        assert "model expects" not in text and "least squares" not in text
    assert "model expects" not in pdf_text(render(packet, "pdf"))


def test_the_sentence_appears_exactly_at_min_n_and_equals_reports_adjusted(
        demo_db: Database) -> None:
    adjusted_report.fit_models(demo_db, scales=["koos_jr"])
    pid = dubois(demo_db)
    n = adjusted_report.observed_minus_expected(demo_db, pid, "koos_jr", DEMO_PERIOD,
                                                min_n=1).n
    assert n >= 5
    for min_n, shown in ((n, True), (n + 1, False)):
        packet = build_packet(demo_db, pid, DEMO_PERIOD.start, DEMO_PERIOD.end,
                              today=DEMO_TODAY, min_n=min_n)
        found = adjusted_report.observed_minus_expected(demo_db, pid, "koos_jr", DEMO_PERIOD,
                                                        min_n=min_n)
        assert (found.mean is not None) is shown
        on_koos = [s for s in packet.adjusted if "KOOS JR" in s]
        assert bool(on_koos) is shown, min_n
        if shown:
            assert found.mean is not None and found.ci95 is not None
            assert packet.figures["adjusted"]["koos_jr"] == found.mean
            size = f"{abs(found.mean):.1f}"
            assert f"{size} points {'more' if found.mean > 0 else 'less'}" in on_koos[0]
            assert f"{found.ci95[0]:+.1f} to {found.ci95[1]:+.1f}" in on_koos[0]
            assert any("least squares" in m for m in packet.methods)
            assert on_koos[0] in render(packet, "md").decode().replace("\\", "")
            assert on_koos[0] in pdf_text(render(packet, "pdf"))


def store_unvalidated(db: Database, scale: str) -> None:
    """The latest model of ``scale`` again, marked as not validating (as a fit on a clinic
    whose deciles disagree would be)."""
    model = adjusted_report.load_model(db, scale)
    assert model is not None
    bad = replace(model, validates=False, reasons=("decile 1 is off.",))
    with transaction(db):
        db.conn.execute("INSERT INTO outcome_models (scale, fitted_at, n, validates, model)"
                        " VALUES (?, ?, ?, 0, ?)",
                        [scale, bad.fitted_at, bad.n, json.dumps(bad.as_dict())])


def test_the_sentence_appears_only_while_the_model_validates(demo_db: Database) -> None:
    adjusted_report.fit_models(demo_db, scales=["koos_jr"])
    pid = dubois(demo_db)
    args = (demo_db, pid, DEMO_PERIOD.start, DEMO_PERIOD.end)
    assert "koos_jr" in build_packet(*args, today=DEMO_TODAY).figures["adjusted"]
    store_unvalidated(demo_db, "koos_jr")
    packet = build_packet(*args, today=DEMO_TODAY)
    assert packet.adjusted == [] and packet.figures["adjusted"] is None
    assert not any("least squares" in m for m in packet.methods)  # no empty section


@pytest.mark.parametrize(("model_n", "table_n", "shown"), [
    (10, 10, True),  # the row's patients
    (9, 10, False),  # one patient of the row left out: a mean over 1 could be had
    (6, 10, False),  # 4 left out
    (5, 10, True),  # 5 left out
    (4, 10, False),  # fewer than min_n
    (11, 10, False),  # more than the row: not a subset, left out
])
def test_observed_minus_expected_beside_the_row_of_its_measure(
        monkeypatch: pytest.MonkeyPatch, db: Database, model_n: int, table_n: int,
        shown: bool) -> None:
    def fake(*_: Any, min_n: int, **__: Any) -> Adjusted:
        if model_n < min_n:
            return Adjusted("odi", model_n, None, None, None, None, "fewer")
        return Adjusted("odi", model_n, 12.0, 10.0, 2.0, (-1.0, 5.0))

    monkeypatch.setattr(adjusted_report, "observed_minus_expected", fake)
    found = ev.adjusted(db, 1, [("odi", "ODI", table_n)], START, END, MIN_N)
    assert (found.figures == {"odi": 2.0}) is shown
    assert (found.method is not None) is shown
    hidden_row = ev.adjusted(db, 1, [("odi", "ODI", None)], START, END, MIN_N)
    assert hidden_row.sentences == []


@pytest.mark.parametrize(("mean", "ci", "text"), [
    (2.46, (-0.04, 4.9), "improved 2.5 points more than the clinic's model expects for "
                         "patients like them (95% CI 0.0 to +4.9 points)."),
    (-1.0, (-3.0, 1.0), "improved 1.0 points less than"),
    (0.04, (-2.0, 2.1), "improved as much as the clinic's model expects"),
])
def test_adjusted_sentence(mean: float, ci: tuple[float, float], text: str) -> None:
    assert text in ev.adjusted_sentence("ODI", mean, ci)


def test_the_packet_reads_no_patient_for_its_evidence(demo_db: Database) -> None:
    """The whole packet, its risk adjustment included (the model takes the age band stored on
    the episode): with reads of patients denied, the demo's packets still carry observed minus
    expected and the recovery chart."""
    from tests.documents.test_packets import DEMO_START

    adjusted_report.fit_models(demo_db)

    def deny_patients(action: int, arg1: Any, *_: Any) -> int:
        if action == sqlite3.SQLITE_READ and arg1 == "patients":
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    shown = 0
    demo_db.conn.set_authorizer(deny_patients)
    try:
        for (pid,) in demo_db.execute("SELECT id FROM partners ORDER BY id").fetchall():
            packet = build_packet(demo_db, pid, DEMO_START, DEMO_TODAY, today=DEMO_TODAY)
            shown += bool(packet.adjusted) and packet.recovery_chart is not None
    finally:
        demo_db.conn.set_authorizer(None)
    assert shown >= 1


def test_every_demo_packet_with_fitted_models(demo_db: Database) -> None:
    """With every model fitted: at most three pages, the third holding only the methods
    note, and no patient identifier in any format."""
    from tests.documents.test_packets import DEMO_START, candidates, flat, identifiers

    adjusted_report.fit_models(demo_db)
    id_set = set(identifiers(demo_db))
    seen_adjusted = seen_chart = 0
    for pid, name in demo_db.execute("SELECT id, name FROM partners ORDER BY id").fetchall():
        packet = build_packet(demo_db, pid, DEMO_START, DEMO_TODAY, today=DEMO_TODAY)
        seen_adjusted += bool(packet.adjusted)
        seen_chart += packet.recovery_chart is not None
        data = render(packet, "pdf")
        pages = [flat(p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages]
        assert len(pages) <= 3, (name, len(pages))
        if len(pages) == 3:
            assert pages[2].lstrip().startswith("Methods"), name
        for text in (" ".join(pages), render(packet, "md").decode(),
                     render(packet, "html").decode()):
            assert not candidates(text) & id_set, name
    assert seen_adjusted >= 10 and seen_chart >= 10


@pytest.mark.parametrize("rest", [[], [3, 4, None, None], [3, 4, 5, 6, None] * 4])
def test_the_counted_read_draws_what_the_observations_draw(db: Database,
                                                           rest: list[int | None]) -> None:
    """recovery_chart counts follow-up days in SQL; the same chart from the episodes one by
    one (reports.recovery.observations) must be identical, curves and lines."""
    pid = build(db, [1, 2, 2, 3, 4, 6, None, None, None, None], rest)
    period = Period(START, END)
    counted = rec.recovery_chart(db, pid, period, min_n=MIN_N)
    assert counted == rec.chart_of(rec.observations(db, period), pid, MIN_N)
    assert counted.mine.n == 10 and counted.clinic.n == 10 + len(rest)
