"""The floors: the best the same machine does for the same job, measured in the same run.

Each floor does the least work that still produces the same kind of result, with none of the
app's checks: it is the bar the app's own figure is divided by.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.measures.instruments import Direction, Instrument


def _reader(path: Path) -> tuple[list[str], Any, Any]:
    fh = path.open(newline="", encoding="utf-8")
    reader = csv.reader(fh)
    return next(reader), reader, fh


def _iso(cell: str) -> str:
    """US MM/DD/YYYY to ISO by moving the parts (the schema's triggers need ISO dates); no
    check of any kind."""
    if "/" in cell:
        m, d, y = cell.split("/", 2)
        return f"{y}-{m}-{d}"
    return cell


def drop_triggers(db: Database) -> None:
    """The floor pays none of our costs: no trigger fires on its inserts. Every trigger goes,
    not only the roll-ups' (``schema.TRIGGER_NAMES``): the group edition's change-log
    triggers (``changes_*``) fired on every floor row while the bulk import leaves one mark
    instead, so the referrals and nps floors paid a second insert per row."""
    names = [row[0] for row in db.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    for name in names:
        db.conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def _partner_maps(conn: Any) -> Any:
    by_npi: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for pid, name, npi in conn.execute("SELECT id, name, npi FROM partners"):
        by_name[name] = pid
        if npi:
            by_npi[npi] = pid

    def partner(npi: str, name: str) -> int | None:
        return by_npi[npi] if npi else by_name.get(name)

    return partner


def import_floor_kind(db: Database, path: Path, kind: str) -> int:
    """csv.reader + one executemany into the kind's tables, one transaction, no validation and
    no triggers (call ``drop_triggers`` once on the floor's database). Rows are streamed into
    executemany (a generator), so the floor's memory does not grow with the file either.

    Only what the schema itself demands is done: natural keys are mapped to row ids (partner NPI
    or name -> id, record number -> patient id), and NOT NULL columns get a value. Dates, codes,
    answers and scores are stored as the file has them (no parsing, no scoring, no summary)."""
    now = now_iso()
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        header, reader, fh = _reader(path)
        with fh:
            count = _FLOORS[kind](conn, header, reader, now)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return count


def _counted(rows: Any, counter: list[int]) -> Any:
    for row in rows:
        counter[0] += 1
        yield row


def _partners_floor(conn: Any, header: list[str], reader: Any, now: str) -> int:
    n = [0]
    conn.executemany(
        "INSERT INTO partners (name, npi, kind, organization, phone, fax, email, address,"
        " city, state, zip, stage, preferred_contact, tags, notes, created_at, updated_at)"
        " VALUES (?,nullif(?, ''),?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        _counted(((*r[:11], r[11] or "prospect", r[12], r[13] or "[]", r[14], now, now)
                  for r in reader), n))
    return n[0]


def _referrals_floor(conn: Any, header: list[str], reader: Any, now: str) -> int:
    partner = _partner_maps(conn)
    col = {c: i for i, c in enumerate(header)}
    # Patients come first (episodes point at them): the floor holds the file's rows once.
    referrals = list(reader)
    patients: dict[str, tuple[str, ...]] = {}
    for r in referrals:
        patients[r[col["patient_id"]]] = (r[col["patient_id"]], r[col["patient_name"]],
                                          r[col["birth_date"]], r[col["sex"]], now)
    conn.executemany("INSERT INTO patients (record_number, name, birth_date, sex, created_at)"
                     " VALUES (?,?,?,?,?)", list(patients.values()))
    patient_ids = dict(conn.execute("SELECT record_number, id FROM patients"))
    episode_cols = ["referral_date", "body_region", "diagnosis", "first_visit_date",
                    "discharge_date", "visits", "discharge_reason", "clinician",
                    "status_reason", "scheduled_date", "clinic", "onset_date",
                    "chief_complaint", "instrument"]
    idx = [col[c] for c in episode_cols]
    dates = {col[c] for c in episode_cols if c.endswith("_date")}
    conn.executemany(
        f"INSERT INTO episodes (id, patient_id, partner_id, status, {', '.join(episode_cols)},"
        f" created_at, updated_at) VALUES ({', '.join('?' * (len(episode_cols) + 6))})",
        [(r[0], patient_ids[r[1]], partner(r[2], r[3]),
          "discharged" if r[col["discharge_date"]] else "received",
          *[(_iso(r[i]) if i in dates else r[i]) or None for i in idx], now, now)
         for r in referrals])
    return len(referrals)


def _touchpoints_floor(conn: Any, header: list[str], reader: Any, now: str) -> int:
    partner, n = _partner_maps(conn), [0]
    conn.executemany(
        "INSERT INTO touchpoints (partner_id, date, method, who, summary, amount,"
        " next_follow_up, created_at) VALUES (?,?,?,?,?,?,?,?)",
        _counted(((partner(r[0], r[1]), *r[2:6], r[6] or None, r[7] or None, now)
                  for r in reader), n))
    return n[0]


def _outbound_floor(conn: Any, header: list[str], reader: Any, now: str) -> int:
    partner, n = _partner_maps(conn), [0]
    conn.executemany("INSERT INTO outbound_referrals (episode_id, partner_id, date, reason,"
                     " created_at) VALUES (?,?,?,?,?)",
                     _counted(((r[0], partner(r[1], r[2]), r[3], r[4], now) for r in reader),
                              n))
    return n[0]


def _responses_floor(conn: Any, header: list[str], reader: Any, now: str) -> int:
    n = [0]
    conn.executemany(
        "INSERT INTO responses (episode_id, instrument, instrument_version, timepoint, date,"
        " answers, scores, scorable, created_at) VALUES (?,?,?,?,?,?,?,1,?)",
        _counted(((r[0], r[1], "1", r[2], r[3], r[4] or None, r[5] or "{}", now)
                  for r in reader), n))
    return n[0]


def _nps_floor(conn: Any, header: list[str], reader: Any, now: str) -> int:
    n = [0]
    conn.executemany("INSERT INTO nps_responses (episode_id, date, score, comment,"
                     " created_at) VALUES (?,?,?,?,?)",
                     _counted(((r[0] or None, r[1], int(r[2]), r[3], now) for r in reader), n))
    return n[0]


_FLOORS = {"partners": _partners_floor, "referrals": _referrals_floor,
           "touchpoints": _touchpoints_floor, "outbound": _outbound_floor,
           "responses": _responses_floor, "nps": _nps_floor}


def scale_table(known: dict[str, Instrument]) -> str:
    """The instruments' single scales as an SQL VALUES list: (instrument, direction, mcid,
    unit). Multi-scale instruments are left out (the benchmark data has none)."""
    rows = []
    for iid, inst in sorted(known.items()):
        if len(inst.scales) != 1:
            continue
        scale = next(iter(inst.scales.values()))
        sign = 1 if scale.direction is Direction.HIGHER_IS_BETTER else -1
        mcid = scale.mcid.value if scale.mcid else "NULL"
        unit = f"'{scale.mcid.unit}'" if scale.mcid else "NULL"
        rows.append(f"('{iid}', {sign}, {mcid}, {unit})")
    return ", ".join(rows)


def scorecard_sql(known: dict[str, Instrument]) -> str:
    """One hand-written query over the raw tables: per partner, referral counts and conversion,
    per-instrument intake/final means, improvement and MCID rate, and NPS counts.

    Pairs are derived from raw responses (first intake; last discharge, else the last progress
    score of a discharged episode), with SQLite's bare-column min()/max() to take the score of
    the chosen row. Medians and confidence intervals are left out: SQL has no cheap form."""
    return f"""
WITH ep AS (
  SELECT id, partner_id, status, referral_date, first_visit_date, discharge_date
  FROM episodes
  WHERE referral_date BETWEEN :start AND :end
),
resp AS (
  SELECT r.episode_id, r.instrument, r.timepoint, r.date,
         json_extract(r.scores, '$.' || r.instrument) AS score
  FROM responses r JOIN ep ON ep.id = r.episode_id
  WHERE r.timepoint IN ('intake', 'progress', 'discharge')
),
intake AS (
  SELECT episode_id, instrument, min(date), score FROM resp
  WHERE timepoint = 'intake' AND score IS NOT NULL GROUP BY episode_id, instrument
),
final AS (
  SELECT episode_id, instrument, max((timepoint = 'discharge') || date) AS k, score FROM resp
  WHERE timepoint IN ('discharge', 'progress') AND score IS NOT NULL
  GROUP BY episode_id, instrument
),
scales(instrument, sign, mcid, unit) AS (VALUES {scale_table(known)}),
pairs AS (
  SELECT ep.partner_id, i.instrument, i.score AS intake, f.score AS final,
         (f.score - i.score) * s.sign AS gain, s.mcid, s.unit
  FROM intake i
  JOIN final f ON f.episode_id = i.episode_id AND f.instrument = i.instrument
  JOIN ep ON ep.id = i.episode_id
  JOIN scales s ON s.instrument = i.instrument
  WHERE substr(f.k, 1, 1) = '1' OR ep.discharge_date IS NOT NULL
)
SELECT 'outcome' AS part, partner_id, instrument, count(*) AS n, avg(intake), avg(final),
       avg(gain),
       avg(CASE WHEN unit = 'points' THEN gain >= mcid
                ELSE gain > 0 AND intake != 0 AND gain >= mcid * abs(intake) / 100.0 END),
       NULL
FROM pairs GROUP BY partner_id, instrument
UNION ALL
SELECT 'referrals', partner_id, NULL, count(*), sum(first_visit_date IS NOT NULL),
       sum(status = 'discharged'), avg(first_visit_date IS NOT NULL),
       avg(julianday(first_visit_date) - julianday(referral_date)), NULL
FROM ep GROUP BY partner_id
UNION ALL
SELECT 'nps', e.partner_id, NULL, count(*), sum(n.score >= 9), sum(n.score BETWEEN 7 AND 8),
       sum(n.score <= 6), 100.0 * (sum(n.score >= 9) - sum(n.score <= 6)) / count(*), NULL
FROM nps_responses n LEFT JOIN episodes e ON e.id = n.episode_id
WHERE n.date BETWEEN :start AND :end GROUP BY e.partner_id
"""


def scorecard_floor(db: Database, sql: str, start: date, end: date) -> list[tuple[Any, ...]]:
    return db.conn.execute(sql, {"start": start.isoformat(), "end": end.isoformat()}).fetchall()


DRILL_QUERIES = [
    "SELECT * FROM partners WHERE id = :partner",
    "SELECT substr(referral_date, 1, 7), count(*) FROM episodes"
    " WHERE partner_id = :partner AND referral_date >= :months_from AND referral_date <= :today"
    " GROUP BY 1",
    "SELECT scale, instrument, count(*), avg(improvement), sum(mcid_met) FROM episode_outcomes"
    " WHERE improvement IS NOT NULL AND referral_date > :start AND referral_date <= :today"
    " AND partner_id = :partner GROUP BY scale, instrument",
    "SELECT scale, instrument, count(*), avg(improvement), sum(mcid_met) FROM episode_outcomes"
    " WHERE improvement IS NOT NULL AND referral_date > :start AND referral_date <= :today"
    " GROUP BY scale, instrument",
    "SELECT sum(n.score >= 9), sum(n.score BETWEEN 7 AND 8), sum(n.score <= 6)"
    " FROM nps_responses n JOIN episodes e ON e.id = n.episode_id"
    " WHERE e.partner_id = :partner AND n.date >= :start AND n.date <= :today",
    "SELECT id, date, method, who, summary, amount, next_follow_up FROM touchpoints"
    " WHERE partner_id = :partner ORDER BY date DESC, id DESC LIMIT 50",
    "SELECT id, referral_date, body_region, diagnosis, status, discharge_date FROM episodes"
    " WHERE partner_id = :partner ORDER BY referral_date DESC, id DESC LIMIT 50",
    "SELECT id, date, episode_id, reason FROM outbound_referrals WHERE partner_id = :partner"
    " ORDER BY date DESC, id DESC LIMIT 50",
    "SELECT id, date, kind, channel, episode_id, note FROM communications"
    " WHERE partner_id = :partner ORDER BY date DESC, id DESC LIMIT 50",
    "SELECT count(*) FROM episodes WHERE partner_id = :partner",
    "SELECT count(*) FROM outbound_referrals WHERE partner_id = :partner",
]


def drilldown_floor(db: Database, partner_id: int, today: date) -> list[list[Any]]:
    """One partner's drill-down read with plain SQL: the partner, referrals per month for 24
    months, outcomes per scale (partner and clinic, last 12 months), NPS, the latest 50 rows of
    each list and the totals: the content of the partner screen, with no Python on top."""
    months_from = date(today.year - 2 + (today.month == 12), today.month % 12 + 1, 1)
    params = {"partner": partner_id, "today": today.isoformat(),
              "start": (today - timedelta(days=365)).isoformat(),
              "months_from": months_from.isoformat()}
    return [db.conn.execute(sql, params).fetchall() for sql in DRILL_QUERIES]


def csv_pass(path: Path) -> int:
    """A bare csv.reader pass over a file: the floor for streaming the NPPES file."""
    n = 0
    with path.open(newline="", encoding="utf-8") as fh:
        for _ in csv.reader(fh):
            n += 1
    return n

