"""The group packet's content from a group scorecard: the small-number rule at its edges and
the "across our N clinics" wording. (The CLI test renders one from a real group database.)"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from outcomes.documents.packets import render
from outcomes.group.packet import build_group_packet

MIN_N = 5


def _block(referrals: int, *, odi_n: int = 0, nps: tuple[int, int, int] = (0, 0, 0)
           ) -> dict[str, Any]:
    p, pa, d = nps
    n = p + pa + d
    outcomes = {}
    if odi_n:
        outcomes["odi"] = {"n": odi_n, "mean_intake": 40.0, "mean_final": 20.0,
                           "mean_improvement": 20.0, "mcid": 30.0, "mcid_unit": "percent",
                           "mcid_rate": 0.6, "mcid_rate_ci95": [0.3, 0.85],
                           "n_carried_forward": 0, "carried_forward": None}
    return {"referrals": referrals, "evaluated": referrals, "discharged": referrals,
            "conversion_rate": 1.0 if referrals else None,
            "median_days_to_first_visit": 6.0, "median_visits": 9.0, "outcomes": outcomes,
            "nps": {"n": n, "score": 100.0 * (p - d) / n if n else None,
                    "moe95": 10.0 if n else None, "promoters": p, "passives": pa,
                    "detractors": d}}


def _card(partner_referrals: list[int]) -> dict[str, Any]:
    """A partner referring ``partner_referrals[i]`` patients to clinic i."""
    total = sum(partner_referrals)
    clinics = [{"clinic_id": f"c{i}", "name": f"Clinic {i}", **_block(n)}
               for i, n in enumerate(partner_referrals)]
    partner = {"partner_id": 9, "name": "Dr. Shared", "npi": "1234567893",
               "kind": "orthopedic surgeon", **_block(total, odi_n=total, nps=(total, 0, 0)),
               "n_clinics": sum(1 for n in partner_referrals if n), "clinics": clinics}
    return {"from": "2025-11-23", "to": "2026-11-22", "min_n": 0, "packet_min_n": MIN_N,
            "clinic": _block(500, odi_n=300, nps=(200, 50, 30)),
            "clinics": [{"clinic_id": f"c{i}", "name": f"Clinic {i}", **_block(100)}
                        for i in range(4)],
            "partners": [partner]}


def _text(card: dict[str, Any]) -> str:
    packet = build_group_packet(card, group_name="Riverside Group", contact="",
                                today=date(2026, 11, 22))
    return render(packet, "md").decode()


@pytest.mark.parametrize(("referrals", "shown"), [
    ([2, 2, 0], False),  # 4 patients: one below min_n, nothing about them
    ([2, 2, 1], True),  # 5: exactly min_n, shown
    ([3, 2, 1], True),
])
def test_the_partners_figures_need_min_n_patients(referrals: list[int], shown: bool) -> None:
    text = _text(_card(referrals))
    total = sum(referrals)
    clinics = sum(1 for n in referrals if n)
    if shown:
        assert f"Of the {total} patients you referred across our {clinics} clinics" in text
        assert "60% of your" in text
    else:
        assert "You referred fewer than 5 patients across our 4 clinics" in text
        assert f"Of the {total}" not in text and "60% of your" not in text
    assert "Riverside Group" in text
    # The clinics' own figures rest on 500 patients: always shown.
    assert "| 500 |" in text.replace("  ", " ")


def test_the_clinics_counts_show_only_when_every_one_passes() -> None:
    # 4 at one clinic would follow from the total (9) minus the 5 shown: no counts at all.
    text = _text(_card([4, 5, 0]))
    assert "Where your patients were seen: Clinic 0; Clinic 1." in text
    assert "Clinic 2" not in text  # referred nobody there
    assert "Where your patients were seen: Clinic 0 (5); Clinic 1 (6)." in _text(_card([5, 6]))


def test_seen_and_completed_hide_a_small_rest_and_rates_of_100_percent_need_twice_min_n(
        ) -> None:
    card = _card([6, 6])
    mine = card["partners"][0]
    mine["evaluated"], mine["discharged"] = 11, 8  # 1 not seen: a small rest
    mine["outcomes"]["odi"]["mcid_rate"] = 1.0    # 100% of 12 (>= 10): shown
    mine["nps"] = {"n": 6, "score": 100.0, "moe95": 10.0, "promoters": 6, "passives": 0,
                   "detractors": 0}                # 100% promoters of 6: hidden
    text = _text(card)
    assert "You referred 12 patients across our 2 clinics from" in text
    assert "11 were seen" not in text and "8 have completed care" not in text
    assert "| Seen at least once | not shown |" in text.replace("  ", " ")
    assert "100% of your 12 patients" in text
    assert "Patient satisfaction" not in text
    card["partners"][0]["outcomes"]["odi"].update(n=6)
    assert "100% of your 6 patients" not in _text(card)


def test_the_groups_figure_needs_a_rest_of_min_n() -> None:
    card = _card([6, 6])
    # The whole group's ODI figure rests on 14 patients, 12 of them this partner's: the other 2
    # would follow by subtraction, so the group's rate is not printed beside the partner's.
    card["clinic"]["outcomes"]["odi"].update(n=14, mcid_rate=0.5, mcid_rate_ci95=[0.3, 0.7])
    text = _text(card)
    assert "across our clinics, 50% did" not in text and "50% (30-70%)" not in text


def test_the_pdf_renders() -> None:
    packet = build_group_packet(_card([10, 7, 3]), group_name="Riverside Group", contact="x",
                                today=date(2026, 11, 22))
    data = render(packet, "pdf")
    assert data.startswith(b"%PDF")


MONTHS = ["2025-11", "2025-12", *[f"2026-{m:02d}" for m in range(1, 12)]]


def _charts(card: dict[str, Any], per_month: dict[str, int] | None) -> dict[str, Any]:
    packet = build_group_packet(card, group_name="Riverside Group", contact="",
                                today=date(2026, 11, 22), per_month=per_month)
    return {c.title: c for c in packet.charts} | {"figures": packet.figures}


@pytest.mark.parametrize(("per_month", "unit"), [
    # Every month 0 or at least min_n: per month, a bar for each of the 13 months.
    ({m: (5 if i % 2 else 0) for i, m in enumerate(MONTHS)}, "month"),
    # One month of 4 (below min_n): per quarter, where each quarter has at least min_n.
    ({m: (4 if m == "2026-01" else 6) for m in MONTHS}, "quarter"),
    # A quarter of 4 too: no chart at all (never a bar left out).
    ({"2025-11": 4, "2026-05": 30}, None),
    # 9 referrals in all, under 2 x min_n: no chart, though each month is 0 or min_n or more.
    ({"2026-02": 9}, None),
    # 10 = 2 x min_n: the chart.
    ({"2026-02": 10}, "month"),
])
def test_the_referrals_chart_follows_the_clinic_packets_rule(per_month: dict[str, int],
                                                             unit: str | None) -> None:
    card = _card([sum(per_month.values()), 0, 0])
    charts = _charts(card, per_month)
    titles = [t for t in charts if t.startswith("Your referrals per")]
    if unit is None:
        assert titles == [] and "referrals_by" not in charts["figures"]
        return
    assert titles == [f"Your referrals per {unit}, all our clinics"]
    chart = charts[titles[0]]
    shown_unit, counts = charts["figures"]["referrals_by"]
    assert shown_unit == unit and sum(counts) == sum(per_month.values())
    assert [v[0] for v in chart.values] == [float(c) for c in counts]
    assert len(counts) == (13 if unit == "month" else 5)  # Q4 2025 to Q4 2026
    assert all(c == 0 or c >= MIN_N for c in counts)


def test_no_referrals_chart_for_a_partner_under_min_n_or_without_monthly_counts() -> None:
    assert not any(t.startswith("Your referrals") for t in _charts(_card([2, 2, 0]),
                                                                   {"2026-02": 4}))
    assert not any(t.startswith("Your referrals") for t in _charts(_card([10, 7, 3]), None))
