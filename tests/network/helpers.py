"""Small hand-built referral networks for exact-number tests of alerts, stages and spend."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.npi import npi_check_digit

TODAY = date(2026, 6, 15)
_npis = count(100000001)


def make_npi() -> str:
    first_nine = str(next(_npis))
    return first_nine + str(npi_check_digit(first_nine))


def add_partner(db: Database, name: str, *, stage: str = "active", kind: str = "primary care",
                stage_source: str = "suggested", npi: str | None = "auto",
                created: date | None = None) -> int:
    created_at = (created or TODAY - timedelta(days=800)).isoformat() + "T09:00:00+00:00"
    cursor = db.execute(
        "INSERT INTO partners (name, kind, npi, stage, stage_source, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [name, kind, make_npi() if npi == "auto" else npi, stage, stage_source, created_at,
         created_at])
    return int(cursor.lastrowid or 0)


_episodes = count(1)
_patients = count(1)


def add_referral(db: Database, partner_id: int | None, referred: date, *,
                 status: str = "received", first_visit: date | None = None,
                 discharge: date | None = None, episode_id: str | None = None) -> str:
    eid = episode_id or f"T{next(_episodes):06d}"
    pid = db.execute("INSERT INTO patients (record_number, created_at) VALUES (?, ?)",
                     [f"MRN{next(_patients)}", now_iso()]).lastrowid
    db.execute(
        "INSERT INTO episodes (id, patient_id, partner_id, referral_date, body_region, status,"
        " first_visit_date, discharge_date, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, 'knee', ?, ?, ?, ?, ?)",
        [eid, pid, partner_id, referred.isoformat(), status,
         first_visit.isoformat() if first_visit else None,
         discharge.isoformat() if discharge else None, now_iso(), now_iso()])
    return eid


def add_touch(db: Database, partner_id: int, when: date, *, amount: float | None = None,
              method: str = "phone", summary: str = "") -> None:
    db.execute(
        "INSERT INTO touchpoints (partner_id, date, method, summary, amount, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [partner_id, when.isoformat(), method, summary or f"{method} {when}", amount, now_iso()])


def add_comm(db: Database, partner_id: int, when: date, episode_id: str | None = None,
             kind: str = "discharge_summary") -> None:
    db.execute(
        "INSERT INTO communications (partner_id, episode_id, date, kind, channel, created_at)"
        " VALUES (?, ?, ?, ?, 'fax', ?)",
        [partner_id, episode_id, when.isoformat(), kind, now_iso()])


def steady(db: Database, partner_id: int, per_month: float, days: int = 540,
           end: date = TODAY) -> None:
    """Evenly spaced referrals at ``per_month`` (30-day months) for ``days`` days up to ``end``."""
    gap = 30 / per_month
    t = 0.0
    while t < days:
        add_referral(db, partner_id, end - timedelta(days=int(t)))
        t += gap
