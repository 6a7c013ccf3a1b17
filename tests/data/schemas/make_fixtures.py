"""Build the fixture database of each released schema version, with data in every table.

Run once when a schema version is released (the fixture is committed):
    .venv/bin/python tests/data/schemas/make_fixtures.py 1
It applies the migrations up to that version only, then writes rows with plain SQL (not the
current models), as that version of the app would have.
"""

from __future__ import annotations

import sys
from pathlib import Path

from outcomes.store.database import connect
from outcomes.store.schema import APPLICATION_ID, MIGRATIONS

HERE = Path(__file__).parent
NAMES = [m.name for m in MIGRATIONS._migrations]

V1_ROWS = """
INSERT INTO settings VALUES ('clinic_name', '"Fixture PT"');
INSERT INTO patients VALUES (1, 'MRN1', 'Ada Fixture', '1960-01-02', 'F', '2024-01-01T00:00:00+00:00');
INSERT INTO patients VALUES (2, 'MRN2', 'Bo Fixture', NULL, NULL, '2024-01-01T00:00:00+00:00');
INSERT INTO partners (id, name, organization, kind, npi, stage, stage_source, tags, created_at, updated_at)
  VALUES (1, 'Dr. Fixture', 'Fixture Ortho', 'orthopedic surgeon', '1234567893', 'active', 'user', '["spine"]',
          '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00');
INSERT INTO partners (id, name, kind, stage, created_at, updated_at)
  VALUES (2, 'Fixture & Law', 'personal-injury attorney', 'prospect', '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00');
INSERT INTO episodes (id, patient_id, partner_id, referral_date, body_region, diagnosis, status, first_visit_date,
                      discharge_date, visits, discharge_reason, clinician, instrument, created_at, updated_at)
  VALUES ('E1', 1, 1, '2024-02-01', 'low back', 'M54.50', 'discharged', '2024-02-05', '2024-03-20', 8,
          'goals_met', 'PT One', 'odi', '2024-02-01T00:00:00+00:00', '2024-03-20T00:00:00+00:00');
INSERT INTO episodes (id, patient_id, partner_id, referral_date, body_region, status, created_at, updated_at)
  VALUES ('E2', 2, 2, '2024-04-01', 'neck', 'received', '2024-04-01T00:00:00+00:00', '2024-04-01T00:00:00+00:00');
INSERT INTO outbound_referrals VALUES (1, 'E1', 1, '2024-03-01', 'MRI: no progress after 6 weeks', '2024-03-01T00:00:00+00:00');
INSERT INTO touchpoints VALUES (1, 1, '2024-01-15', 'lunch and learn', 'Owner', 'Lunch', 80.0, '2024-02-15', '2024-01-15T00:00:00+00:00');
INSERT INTO communications VALUES (1, 1, 'E1', '2024-03-21', 'discharge_summary', 'fax', 'Summary', '2024-03-21T00:00:00+00:00');
INSERT INTO responses VALUES (1, 'E1', 'odi', '2.1a', 'intake', '2024-02-05', '[3,3,2,2,3,2,2,3,2,2]', '{"odi": 48.0}', 1, NULL, 0, '2024-02-05T00:00:00+00:00');
INSERT INTO responses VALUES (2, 'E1', 'odi', '2.1a', 'discharge', '2024-03-20', '[1,1,1,0,1,1,0,1,1,1]', '{"odi": 16.0}', 1, NULL, 0, '2024-03-20T00:00:00+00:00');
INSERT INTO episode_outcomes VALUES ('E1', 'odi', 'odi', 1, '2024-02-01', 'PT One', 48.0, '2024-02-05', 16.0, '2024-03-20', 0, 32.0, 1);
INSERT INTO nps_responses VALUES (1, 'E1', '2024-03-20', 10, 'Great [bold]team[/bold]', '2024-03-20T00:00:00+00:00');
INSERT INTO nps_responses VALUES (2, NULL, '2024-03-22', 4, '', '2024-03-22T00:00:00+00:00');
INSERT INTO audit_log VALUES (1, '2024-01-01T00:00:00+00:00', 'import', 'partners', '{"rows": 2}');
"""

# Version 2 added audit_log.actor.
V2_ROWS = V1_ROWS.replace(
    "INSERT INTO audit_log VALUES (1, '2024-01-01T00:00:00+00:00', 'import', 'partners', "
    "'{\"rows\": 2}');",
    "INSERT INTO audit_log VALUES (1, '2024-01-01T00:00:00+00:00', 'import', 'partners', "
    "'{\"rows\": 2}', 'frontdesk');",
)
assert V2_ROWS != V1_ROWS

# Version 3 added the monthly rollups (filled by the migration, from the rows above) and kept
# the audit log as in version 2; two audit rows, so the chain of version 4 links them.
V3_ROWS = V2_ROWS + (
    "INSERT INTO audit_log VALUES (2, '2024-02-01T00:00:00+00:00', 'add', 'responses', "
    "'{\"episode_id\": \"E1\"}', 'frontdesk');\n"
)

ROWS = {1: V1_ROWS, 2: V2_ROWS, 3: V3_ROWS}


def build_v4() -> Path:
    """Version 4 chained the audit log: the version 3 file upgraded by its own migration, so the
    hashes are the ones that version wrote."""
    path = build(3, HERE / "v4.db")
    db = connect(path)
    MIGRATIONS.apply(db, stop_before=NAMES[4] if len(NAMES) > 4 else None)
    db.execute("PRAGMA user_version = 4")
    db.execute("VACUUM")
    db.close()
    return path


def build(version: int, path: Path | None = None) -> Path:
    path = path or HERE / f"v{version}.db"
    path.unlink(missing_ok=True)
    db = connect(path)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    stop = NAMES[version] if version < len(NAMES) else None
    MIGRATIONS.apply(db, stop_before=stop)
    db.execute(f"PRAGMA user_version = {version}")
    db.conn.executescript(ROWS[version])
    db.execute("VACUUM")
    db.close()
    return path


if __name__ == "__main__":
    version = int(sys.argv[1])
    print(build_v4() if version == 4 else build(version))
