"""Clinic settings stored in the database (JSON values with typed defaults)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from outcomes.errors import ValidationError
from outcomes.store.database import Queryable, transaction

# Annotations only: sqlite-utils is imported by whoever opens the connection.
if TYPE_CHECKING:
    from sqlite_utils import Database

# CMS non-monetary compensation limit (42 CFR 411.357(k)), adjusted each calendar year by the
# CPI-U change for the 12 months ending the preceding September 30 (CMS "CPI-U Updates" page,
# cms.gov/medicare/regulations-guidance/physician-self-referral/cpi-u-updates: CY 2023 $489,
# CY 2024 $507).
# CY 2026: $535, reported by two health-law sources citing the CMS update: a Hall Render blog
# post as reported by Becker's ASC Review ("A 2026 Stark law update goes into effect") and
# Horty Springer (hortyspringer.com, 2026-01-08, "Nonmonetary Compensation - New Limit
# $535/year"). The copy of the CMS page consulted only went up to CY 2024; CY 2025 ($519, the
# previous default) was not confirmed from any source.
# When the year checked differs from spend_limit_year, the app says so next to every spend
# warning. Update this default each January, or set it per clinic:
#   outcomes settings set spend_limit 535 ; outcomes settings set spend_limit_year 2026
DEFAULTS: dict[str, Any] = {
    "clinic_name": "Your Clinic",
    "clinic_contact": "",
    "min_n": 5,
    "spend_limit": 535.0,
    "spend_limit_year": 2026,
    "spend_limit_source": "CMS Physician Self-Referral, non-monetary compensation limit, "
    "CY 2026 ($535), 42 CFR 411.357(k)",
    "spend_warn_fraction": 0.8,
    # Group edition (docs/group.md): this clinic's id in the group database, unique in the group.
    "clinic_id": "",
    # True sends patient record numbers, names and birth dates to the group database: only for a
    # group that is one covered entity (or has a business associate agreement). Default: keyed
    # hashes and age bands only.
    "group_identified": False,
    # The group's name on group packets ("your patients across our N clinics").
    "group_name": "",
    "cadence_days": {
        "prospect": 60,
        "outreach": 21,
        "active": 30,
        "growing": 30,
        "mature": 45,
        "dormant": 90,
    },
    # A referral still unscheduled after this many business days raises an alert.
    "schedule_within_business_days": 3,
    # An open episode with at least this many visits and no improvement on any scale raises an
    # alert for the treating clinician.
    "no_improvement_visits": 6,
    # A progress note is owed to the referrer every this many visits or days (network/owed.py),
    # and in the days before the patient's known follow-up with the referring physician.
    "progress_note_visits": 10,
    "progress_note_days": 30,
    "follow_up_notice_days": 7,
    # An outbound referral whose findings are not back after this many days raises an alert.
    "outbound_findings_days": 30,
    # Track the plan-of-care certification (Medicare's 30-day rule); a clinic without
    # Medicare patients, or that tracks it in its EMR, turns the alert off.
    "plan_of_care_alerts": True,
}


def get(db: Queryable, key: str) -> Any:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    if row is not None:
        return json.loads(row[0])
    if key in DEFAULTS:
        return DEFAULTS[key]
    raise ValidationError(f"{key!r} is not a setting; known settings: {', '.join(DEFAULTS)}.")


def get_all(db: Database) -> dict[str, Any]:
    values = dict(DEFAULTS)
    for key, value in db.execute("SELECT key, value FROM settings"):
        values[key] = json.loads(value)
    return values


def set_value(db: Database, key: str, value: Any) -> None:
    from outcomes.store import audit  # writes only: the alert queue reads settings

    if key not in DEFAULTS and not key.startswith("x_"):
        raise ValidationError(f"{key!r} is not a setting; known settings: {', '.join(DEFAULTS)}.")
    default = DEFAULTS.get(key)
    if isinstance(default, bool) or default is None:
        pass
    elif isinstance(default, (int, float)) and not isinstance(value, (int, float)):
        raise ValidationError(f"setting {key} must be a number.")
    with transaction(db):
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value)],
        )
        audit.log(db, "update", "settings", key=key, value=value)
