"""Export every kind of record in the same columns the importer reads, as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlite_utils import Database

from outcomes.importing.csvfile import neutralise, write_csv
from outcomes.importing.kinds import KINDS

# One query per kind, whose column names are the import columns, so an export re-imports as is.
# A partner's stage is exported only when a user chose it; a suggested stage is derived data.
QUERIES: dict[str, str] = {
    "partners": """
        SELECT name, npi, kind, organization, phone, fax, email, address, city, state, zip,
               CASE WHEN stage_source = 'user' THEN stage END AS stage,
               preferred_contact, tags, notes
        FROM partners ORDER BY name, id""",
    "referrals": """
        SELECT e.id AS episode_id, pt.record_number AS patient_id, p.npi AS partner_npi,
               CASE WHEN p.npi IS NULL THEN p.name END AS partner,
               e.referral_date, e.body_region, e.diagnosis, e.first_visit_date,
               e.discharge_date, e.visits, e.discharge_reason, e.clinician,
               pt.name AS patient_name, pt.birth_date, pt.sex, e.status, e.status_reason,
               e.scheduled_date, e.clinic, e.onset_date, e.chief_complaint, e.instrument,
               e.history, e.findings, e.treatment, e.plan, e.plan_frequency, e.plan_duration,
               e.plan_interventions, e.referral_question, e.precautions, e.physician_follow_up,
               e.poc_sent_date, e.poc_certified_date, e.poc_certified_by,
               e.procedure, CASE e.surgical WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END AS surgical
        FROM episodes e JOIN patients pt ON pt.id = e.patient_id
        LEFT JOIN partners p ON p.id = e.partner_id ORDER BY e.referral_date, e.id""",
    "touchpoints": """
        SELECT p.npi AS partner_npi, CASE WHEN p.npi IS NULL THEN p.name END AS partner,
               t.date, t.method, t.who, t.summary, t.amount, t.next_follow_up
        FROM touchpoints t JOIN partners p ON p.id = t.partner_id ORDER BY t.date, t.id""",
    "outbound": """
        SELECT o.episode_id, p.npi AS partner_npi,
               CASE WHEN p.npi IS NULL THEN p.name END AS partner, o.date, o.reason, o.question
        FROM outbound_referrals o JOIN partners p ON p.id = o.partner_id ORDER BY o.date, o.id""",
    "responses": """
        SELECT episode_id, instrument, timepoint, date, answers,
               CASE WHEN score_only THEN scores END AS score
        FROM responses ORDER BY episode_id, date, id""",
    "nps": """
        SELECT episode_id, date, score, comment FROM nps_responses ORDER BY date, id""",
    "goals": """
        SELECT episode_id, goal, target_date, status FROM episode_goals
        ORDER BY episode_id, id""",
}


def _answers_cell(value: str | None) -> str | None:
    if value is None:
        return None
    return ";".join("-" if a is None else str(a) for a in json.loads(value))


def _score_cell(value: str | None) -> str | None:
    if value is None:
        return None
    (score,) = json.loads(value).values()
    return f"{score:g}"


def export_rows(db: Database, kind: str) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows) for ``kind``; columns are the kind's import column names."""
    cursor = db.execute(QUERIES[kind])
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, r, strict=True)) for r in cursor]
    if kind == "responses":
        for row in rows:
            row["answers"] = _answers_cell(row["answers"])
            row["score"] = _score_cell(row["score"])
    if kind == "partners":
        for row in rows:
            row["tags"] = ";".join(json.loads(row["tags"] or "[]"))
    return columns, rows


def export_text(db: Database, kind: str, fmt: str) -> str:
    columns, rows = export_rows(db, kind)
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    out = io.StringIO()
    _write_rows(out, columns, rows)
    return out.getvalue()


def _write_rows(out: io.StringIO, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """As csvfile.write_csv, and a cell with a carriage return is quoted too: Python's csv
    writer quotes only the characters of its line terminator ("\n" here), and a bare "\r"
    ends a row for every CSV reader, so free text typed with one did not import back. Each row
    is written with "\r\n" (which quotes both) and ends with "\n" like the rest."""
    row_out = io.StringIO()
    writer = csv.writer(row_out, lineterminator="\r\n")
    for cells in ([*columns], *([neutralise(row.get(c)) for c in columns] for row in rows)):
        row_out.seek(0)
        row_out.truncate()
        writer.writerow(cells)
        out.write(row_out.getvalue()[:-2] + "\n")


def template(kind: str) -> str:
    """A header-only CSV for ``kind`` with every accepted column."""
    out = io.StringIO()
    write_csv(out, [c.name for c in KINDS[kind].columns], [])
    return out.getvalue()
