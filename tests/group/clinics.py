"""Three clinics of one group, built from the demo with different seeds, sharing some partners
(same NPI), and the union of their records in one SQLite database: the reference the group
scorecard is checked against."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from outcomes.demo import build_demo
from outcomes.store import settings
from outcomes.store.database import open_db, transaction

SECRET = b"group-secret-for-tests-0123456789"
CLINICS = {"north": 7, "south": 8, "east": 9}
# Partners (by demo name) that refer to every clinic: the clinics give them the north clinic's
# NPI, so the group must count them as one partner each.
SHARED = ["Dr. Margaret Hale", "Dr. Thomas Reed", "Dr. Kevin Walsh", "Dr. Nadia Haddad",
          "Dr. Emily Carter", "Dr. Julia Santos", "Dr. Marcus Lee", "Dr. Teresa Alvarez"]


def build_clinics(folder: Path, today: date) -> dict[str, Path]:
    paths: dict[str, Path] = {}
    shared_npi: dict[str, str] = {}
    for clinic_id, seed in CLINICS.items():
        path = folder / f"{clinic_id}.db"
        db = open_db(path)
        build_demo(db, seed=seed, today=today)
        settings.set_value(db, "clinic_id", clinic_id)
        settings.set_value(db, "clinic_name", f"Riverside PT {clinic_id.title()}")
        _log_packets(db, seed, today)
        if not shared_npi:
            shared_npi = dict(db.execute(
                f"SELECT name, npi FROM partners WHERE name IN ({', '.join('?' * len(SHARED))})",
                SHARED).fetchall())
        else:
            with transaction(db):
                for name, npi in shared_npi.items():
                    db.execute("UPDATE partners SET npi = ? WHERE name = ?", [npi, name])
        db.close()
        paths[clinic_id] = path
    return paths


def _log_packets(db: Database, seed: int, today: date) -> None:
    """Evidence packets to the partners with the most referrals (the demo logs none): several
    per partner, some within 90 days of each other, some whose after-window has not ended by
    ``today``; each clinic's on other days."""
    import random

    from outcomes.network.communications import log_communication

    rng = random.Random(seed)
    busiest = [pid for (pid,) in db.execute(
        "SELECT partner_id FROM episodes WHERE partner_id IS NOT NULL GROUP BY partner_id"
        " ORDER BY count(*) DESC, partner_id LIMIT 10")]
    with transaction(db):
        for pid in busiest:
            for _ in range(rng.randint(1, 4)):
                day = today - timedelta(days=rng.randint(1, 600))
                log_communication(db, pid, {"kind": "packet", "channel": "email",
                                            "date": day, "note": "Outcomes packet"},
                                  today=today)


def _rows(db: Database, sql: str) -> list[dict[str, Any]]:
    cursor = db.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def build_union(paths: dict[str, Path], target: Path) -> Database:
    """One clinic database holding every clinic's records: partners merged by NPI (those
    without one stay per clinic, named '<name> [<clinic>]'), ids prefixed by the clinic."""
    union = open_db(target)
    with transaction(union):
        for clinic_id, path in paths.items():
            db = open_db(path)
            partner_map: dict[int, int] = {}
            for p in _rows(db, "SELECT * FROM partners ORDER BY id"):
                old = p.pop("id")
                if p["npi"]:
                    found = union.execute("SELECT id FROM partners WHERE npi = ?",
                                          [p["npi"]]).fetchone()
                    if found:
                        partner_map[old] = found[0]
                        continue
                else:
                    p["name"] = f"{p['name']} [{clinic_id}]"
                cur = union.execute(
                    f"INSERT INTO partners ({', '.join(p)}) VALUES ({', '.join('?' * len(p))})",
                    list(p.values()))
                partner_map[old] = cur.lastrowid
            patient_map: dict[int, int] = {}
            for p in _rows(db, "SELECT * FROM patients"):
                old = p.pop("id")
                p["record_number"] = f"{clinic_id}:{p['record_number']}"
                cur = union.execute(
                    f"INSERT INTO patients ({', '.join(p)}) VALUES ({', '.join('?' * len(p))})",
                    list(p.values()))
                patient_map[old] = cur.lastrowid
            for table, sql in (
                ("episodes", "SELECT * FROM episodes"),
                ("episode_outcomes", "SELECT * FROM episode_outcomes"),
                ("nps_responses", "SELECT * FROM nps_responses"),
                ("communications", "SELECT * FROM communications"),
            ):
                rows = _rows(db, sql)
                for r in rows:
                    if table == "episodes":
                        r["id"] = f"{clinic_id}:{r['id']}"
                        r["patient_id"] = patient_map[r["patient_id"]]
                    else:
                        if r["episode_id"] is not None:
                            r["episode_id"] = f"{clinic_id}:{r['episode_id']}"
                    if "partner_id" in r and r["partner_id"] is not None:
                        r["partner_id"] = partner_map[r["partner_id"]]
                    if table == "nps_responses":
                        r["comment"] = f"{clinic_id}:{r.pop('id')}"
                    if table == "communications":
                        r.pop("id")
                if rows:
                    cols = list(rows[0])
                    union.conn.executemany(
                        f"INSERT INTO {table} ({', '.join(cols)})"
                        f" VALUES ({', '.join('?' * len(cols))})",
                        [list(r.values()) for r in rows])
            db.close()
    return union


def match_key(partner: dict[str, Any], clinic_of_local: str | None = None) -> str:
    if partner["npi"]:
        return f"npi:{partner['npi']}"
    if clinic_of_local is None:  # a group partner without NPI: it belongs to one clinic
        clinic_of_local = partner["clinics"][0]["clinic_id"]
        return f"{partner['name']} [{clinic_of_local}]"
    return partner["name"]


def assert_same_figures(got: Any, want: Any, where: str = "") -> None:
    """Equal figure for figure: same keys, same counts, floats equal to 1e-9 relative (sums
    are added in another order in PostgreSQL)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), where
        assert set(got) == set(want), f"{where}: keys {sorted(set(got) ^ set(want))}"
        for key in want:
            assert_same_figures(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {got} != {want}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same_figures(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, (int, float)), f"{where}: {got!r} != {want!r}"
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), f"{where}: {got} != {want}"
    else:
        assert got == want and type(got) is type(want), f"{where}: {got!r} != {want!r}"


GROUP_ONLY = ("clinics", "n_clinics")


def comparable(card: dict[str, Any], *, group: bool) -> dict[str, Any]:
    """A scorecard without ids and names that differ between the group and the union (partner
    ids; the union's '[clinic]' suffix), partners keyed by NPI, group-only keys left out."""
    partners = {}
    for p in card["partners"]:
        key = match_key(p) if group else (f"npi:{p['npi']}" if p["npi"] else p["name"])
        drop = ("partner_id", *GROUP_ONLY) if p["npi"] else ("partner_id", "name", *GROUP_ONLY)
        rest = {k: v for k, v in p.items() if k not in drop}
        partners[key] = rest
    return {"from": card["from"], "to": card["to"], "min_n": card["min_n"],
            "clinic": card["clinic"], "partners": partners}
