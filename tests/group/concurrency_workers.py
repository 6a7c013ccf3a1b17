"""The processes of the many-therapists concurrency test (importable, for 'spawn')."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any


def writer(path: str, number: int, partner_ids: list[int], seconds: float,
           today_iso: str) -> dict[str, Any]:
    """One therapist for ``seconds``: a referral, its intake survey, a touchpoint, then a
    progress survey, over and over, through the core functions the front ends call. Returns
    what it saved and every error it met."""
    from outcomes.measures.responses import save_response
    from outcomes.network.referrals import record_referral
    from outcomes.network.touchpoints import log_touchpoint
    from outcomes.store.database import open_db

    today = date.fromisoformat(today_iso)
    db = open_db(Path(path))
    saved: dict[str, list[str]] = {"episodes": [], "responses": [], "touchpoints": []}
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        i += 1
        eid = f"W{number}-{i}"
        partner = partner_ids[(number + i) % len(partner_ids)]
        answers = [(number + i + k) % 6 for k in range(10)]
        try:
            record_referral(db, {"id": eid, "patient_record_number": f"MRN-{eid}",
                                 "patient_name": f"Pat {eid}", "partner_id": partner,
                                 "referral_date": today, "body_region": "low back"},
                            today=today)
            saved["episodes"].append(eid)
            save_response(db, eid, "odi", "intake", answers, today)
            saved["responses"].append(f"{eid}/intake")
            if log_touchpoint(db, partner, {"date": today, "method": "phone",
                                            "summary": f"call {eid}"}, today=today).added:
                saved["touchpoints"].append(eid)
            save_response(db, eid, "odi", "progress", [max(a - 1, 0) for a in answers], today)
            saved["responses"].append(f"{eid}/progress")
        except Exception as exc:  # every error is a finding: report it, keep going
            errors.append(f"{eid}: {type(exc).__name__}: {exc}")
    db.close()
    return {"saved": saved, "errors": errors}


def reader(path: str, seconds: float, today_iso: str, done: str) -> dict[str, Any]:
    """One dashboard refreshing for ``seconds``: the summary at the top and the partner table.
    Then, on the same connection, one more refresh once the file ``done`` exists (the writers
    have finished). Returns the month-to-date referral count of each refresh and the last."""
    from outcomes.reports.dashboard import dashboard_summary
    from outcomes.reports.partners import partners_page
    from outcomes.store.database import open_db

    today = date.fromisoformat(today_iso)
    db = open_db(Path(path))
    seen: list[int] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            seen.append(dashboard_summary(db, today).month_to_date)
            partners_page(db, today, sort="recent", limit=50)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.2)
    wait_until = time.monotonic() + 300
    while not Path(done).exists() and time.monotonic() < wait_until:
        time.sleep(0.05)
    last = dashboard_summary(db, today).month_to_date
    db.close()
    return {"seen": seen, "errors": errors, "last": last}


def final_refresh(path: str, today_iso: str) -> int:
    from outcomes.reports.dashboard import dashboard_summary
    from outcomes.store.database import open_db

    db = open_db(Path(path))
    try:
        return dashboard_summary(db, date.fromisoformat(today_iso)).month_to_date
    finally:
        db.close()
