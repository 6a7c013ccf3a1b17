"""A small hand-built clinic whose every scorecard number is worked out by hand.

Period 2026-01-01..2026-06-30. Partner A ("Dr. Ada Stone", id in ``clinic["a"]``):

| episode | referred | first visit (+days) | visits | status | scores (score-only totals) |
|---|---|---|---|---|---|
| A1 | 01-10 | +2 | 10 | discharged | ODI 40 -> 20 (discharge): +20, MCID 30% of 40 = 12: met |
| A2 | 01-20 | +4 | 8 | discharged | ODI 50 -> 40: +10, needs 15: not met |
| A3 | 02-01 | +6 | 12 | discharged | ODI 30 -> 21: +9, needs 9: met (boundary) |
| A4 | 02-10 | +8 | 3 | self-discharged | ODI 60 -> progress 30, carried forward: +30 met |
| A5 | 02-20 | +10 | 6 | discharged | ODI 44 intake only (missing discharge, no progress) |
| A6 | 03-01 | +3 | 9 | discharged | LEFS 30 -> 45: +15, MCID 9: met; QuickDASH work 50 -> 25 |
| A7 | 03-10 | +5 | 7 | discharged | LEFS 40 -> 35: -5, not met; QuickDASH work 60 -> 40 |
| A8 | 04-01 | - | - | received | - |
| A9 | 2025-12-15 | +2 | 5 | discharged | ODI 70 -> 10 (outside the period) |

Partner B ("Dr. Empty", id ``clinic["b"]``): no referrals. Self-referred episode S1 (no partner):
referred 2026-02-02, first visit +1, 4 visits, ODI 80 -> 40 (+40, met).

NPS (by response date): A1 10, A2 9, A3 6, A6 8, A7 3 (partner A: 2 promoters, 1 passive,
2 detractors), one clinic-wide answer 10 without an episode, and A1 again 2025-12-01 (outside).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

from outcomes.measures import summary as outcome_summary
from outcomes.measures.nps import add_nps
from outcomes.measures.responses import add_response
from outcomes.models import Episode, NpsResponse, Partner, Patient
from outcomes.network.episodes import save_episode, save_patient
from outcomes.network.partners import save_partner
from outcomes.store import settings
from outcomes.store.database import transaction

START, END, TODAY = date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 1)

PATIENTS = {  # record number -> (name, birth date)
    "A1": ("Alice Quartz", date(1960, 5, 17)),
    "A2": ("Bruno Feldspar", date(1971, 8, 3)),
    "A3": ("Celia Garnet", date(1980, 1, 29)),
    "A4": ("Dmitri Basalt", date(1955, 11, 11)),
    "A5": ("Edna Schist", date(1990, 3, 7)),
    "A6": ("Farid Gneiss", date(1985, 12, 24)),
    "A7": ("Greta Marble", date(1949, 6, 30)),
    "A8": ("Hugo Slate", date(2001, 2, 14)),
    "A9": ("Iris Obsidian", date(1966, 9, 9)),
    "S1": ("Jonas Pumice", date(1975, 4, 21)),
}


def add_episode(db: Database, eid: str, partner_id: int | None, referred: date,
                first_days: int | None = None, visits: int | None = None,
                discharged: bool = False, reason: str | None = None,
                **extra: Any) -> None:
    name, birth = PATIENTS.get(eid, (f"Patient {eid}", date(1970, 1, 1)))
    fields: dict[str, Any] = {"id": eid, "patient_record_number": f"MRN-{eid}",
                              "partner_id": partner_id, "referral_date": referred,
                              "body_region": "low back", "clinician": "T. Tester, PT", **extra}
    if first_days is not None:
        first = referred + timedelta(days=first_days)
        fields["first_visit_date"] = first
        fields["visits"] = visits
        if discharged:
            fields["discharge_date"] = first + timedelta(days=40)
            fields["discharge_reason"] = reason or "goals_met"
    with transaction(db):
        pid = save_patient(db, Patient(record_number=f"MRN-{eid}", name=name, birth_date=birth))
        save_episode(db, Episode(**fields), pid)
        outcome_summary.refresh(db, [eid])


def score(db: Database, eid: str, instrument: str, timepoint: str, total: float,
          when: date) -> None:
    add_response(db, eid, instrument, timepoint, None, when, total=total)


def build_clinic(db: Database) -> dict[str, int]:
    with transaction(db):
        a = save_partner(db, Partner(name="Dr. Ada Stone", kind="primary care",
                                     organization="Stone Family Medicine",
                                     npi="1234567893", stage="active")).id
        b = save_partner(db, Partner(name="Dr. Empty", kind="neurologist", stage="active")).id
    d = date
    plan = [  # eid, referred, first+days, visits, discharged, reason
        ("A1", d(2026, 1, 10), 2, 10, True, None),
        ("A2", d(2026, 1, 20), 4, 8, True, None),
        ("A3", d(2026, 2, 1), 6, 12, True, None),
        ("A4", d(2026, 2, 10), 8, 3, True, "self_discharged"),
        ("A5", d(2026, 2, 20), 10, 6, True, None),
        ("A6", d(2026, 3, 1), 3, 9, True, None),
        ("A7", d(2026, 3, 10), 5, 7, True, None),
        ("A8", d(2026, 4, 1), None, None, False, None),
        ("A9", d(2025, 12, 15), 2, 5, True, None),
    ]
    for eid, referred, days, visits, discharged, reason in plan:
        add_episode(db, eid, a, referred, days, visits, discharged, reason,
                    chief_complaint="Low back pain", diagnosis="M54.50", findings="Guarded",
                    treatment="Exercise", onset_date=referred - timedelta(days=30),
                    plan="Home program")
    add_episode(db, "S1", None, d(2026, 2, 2), 1, 4, True)
    when = d(2026, 4, 15)
    pairs = {"A1": ("odi", 40, 20), "A2": ("odi", 50, 40), "A3": ("odi", 30, 21),
             "A6": ("lefs", 30, 45), "A7": ("lefs", 40, 35), "A9": ("odi", 70, 10),
             "S1": ("odi", 80, 40)}
    for eid, (inst, intake, final) in pairs.items():
        score(db, eid, inst, "intake", intake, d(2026, 1, 1) if eid != "A9" else d(2025, 12, 17))
        score(db, eid, inst, "discharge", final, when if eid != "A9" else d(2026, 1, 20))
    score(db, "A4", "odi", "intake", 60, d(2026, 2, 18))
    score(db, "A4", "odi", "progress", 30, d(2026, 3, 1))
    score(db, "A5", "odi", "intake", 44, d(2026, 3, 2))
    for eid, intake, final in (("A6", 50, 25), ("A7", 60, 40)):
        score(db, eid, "quickdash_work", "intake", intake, d(2026, 3, 5))
        score(db, eid, "quickdash_work", "discharge", final, when)
    for eid, value, day in (("A1", 10, d(2026, 5, 1)), ("A2", 9, d(2026, 5, 2)),
                            ("A3", 6, d(2026, 5, 3)), ("A6", 8, d(2026, 5, 4)),
                            ("A7", 3, d(2026, 5, 5)), (None, 10, d(2026, 5, 6)),
                            ("A1", 2, d(2025, 12, 1))):
        add_nps(db, NpsResponse(episode_id=eid, score=value, date=day,
                                comment="Call me, I'm Alice Quartz" if value == 3 else ""))
    settings.set_value(db, "clinic_name", "Test Clinic")
    settings.set_value(db, "clinic_contact", "1 Main St · fax (555) 010-0000")
    return {"a": a, "b": b}
