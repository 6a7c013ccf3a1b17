"""A large synthetic clinic for timing the scorecard (400 partners, 250k episodes).

Run: .venv/bin/python tests/reports/bigdb.py /tmp/big.db  (then time the scorecard on it).
Rows are written straight into the tables (no patient identities are needed by scorecards).
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path

from outcomes.store.database import open_db, transaction


def build(path: Path, *, partners: int = 400, episodes: int = 250_000, seed: int = 1) -> None:
    rng = random.Random(seed)
    db = open_db(path)
    end = date(2026, 11, 22)
    now = "2026-11-22T00:00:00+00:00"
    with transaction(db):
        db.conn.executemany(
            "INSERT INTO partners (id, name, kind, stage, created_at, updated_at)"
            " VALUES (?, ?, 'primary care', 'active', ?, ?)",
            [(i, f"Partner {i}", now, now) for i in range(1, partners + 1)])
        db.conn.executemany(
            "INSERT INTO patients (id, record_number, created_at) VALUES (?, ?, ?)",
            [(i, f"R{i}", now) for i in range(1, episodes + 1)])
        ep_rows, out_rows, nps_rows = [], [], []
        scales = [("odi", "odi", 1), ("lefs", "lefs", -1), ("nprs", "nprs", 1)]
        for i in range(1, episodes + 1):
            pid = rng.randint(1, partners) if rng.random() > 0.05 else None
            ref = end - timedelta(days=rng.randint(1, 730))
            seen = rng.random() < 0.85
            first = ref + timedelta(days=rng.randint(1, 20)) if seen else None
            disc = first + timedelta(days=rng.randint(20, 90)) if seen and rng.random() < 0.8 \
                else None
            if disc and disc > end:
                disc = None
            status = "discharged" if disc else ("in_care" if seen else "received")
            clin = f"Clinician {rng.randint(1, 12)}"
            eid = f"E{i:07d}"
            ep_rows.append((eid, i, pid, ref.isoformat(), "low back", status,
                            first and first.isoformat(), disc and disc.isoformat(),
                            rng.randint(3, 18) if seen else None, clin, now, now))
            if seen:
                for scale, inst, sign in rng.sample(scales, k=rng.randint(1, 2)):
                    intake = rng.uniform(20, 70)
                    final = intake - sign * rng.gauss(12, 10) if disc else None
                    imp = None if final is None else sign * (intake - final)
                    mcid = None if imp is None else int(imp >= 10)
                    out_rows.append((eid, scale, inst, pid, ref.isoformat(), clin, intake,
                                     first.isoformat(), final, disc and disc.isoformat(),
                                     int(rng.random() < 0.08), imp, mcid))
            if disc and rng.random() < 0.5:
                nps_rows.append((eid, disc.isoformat(), rng.randint(0, 10), "", now))
        db.conn.executemany(
            "INSERT INTO episodes (id, patient_id, partner_id, referral_date, body_region, status,"
            " first_visit_date, discharge_date, visits, clinician, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", ep_rows)
        db.conn.executemany(
            "INSERT INTO episode_outcomes (episode_id, scale, instrument, partner_id,"
            " referral_date, clinician, intake_score, intake_date, final_score, final_date,"
            " carried_forward, improvement, mcid_met) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            out_rows)
        db.conn.executemany(
            "INSERT INTO nps_responses (episode_id, date, score, comment, created_at)"
            " VALUES (?,?,?,?,?)", nps_rows)
    db.execute("ANALYZE")
    db.close()


if __name__ == "__main__":
    build(Path(sys.argv[1]))
