"""The database schema, as versioned migrations.

Each migration is a function applied once, in order, inside one transaction (sqlite-utils 4
``Migrations``). Never edit a released migration: add a new one, bump nothing else by hand
(``SCHEMA_VERSION`` follows the number of migrations), and add a fixture database for the
released version under ``tests/data/schemas/`` so the upgrade test covers it.

Design notes (see docs/data-model.md):
- Patient identity (record number, name, birth date, sex) lives in ``patients`` only, so reports
  can be kept free of it by construction: report queries never join that table.
- An inbound referral *is* an episode of care (``episodes`` holds its partner, date, region,
  diagnosis and status); outbound referrals have their own table; the ``referrals`` view is the
  ledger of both directions.
- ``episode_outcomes`` is the per-episode, per-scale summary (intake, final, improvement, MCID),
  maintained on every write to responses or episodes, so scorecards never re-derive pairs.
- There is no column for paying for referrals anywhere, by design.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

# 'OUTC' as a 32-bit integer: marks the file as ours (PRAGMA application_id).
APPLICATION_ID = 0x4F555443

MIGRATIONS = Migrations("outcomes")

_V1 = """
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL            -- JSON
);

CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    record_number TEXT NOT NULL UNIQUE,
    name TEXT,
    birth_date TEXT,               -- ISO 8601 date
    sex TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE partners (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    organization TEXT,
    kind TEXT NOT NULL,
    npi TEXT UNIQUE,               -- NULL for partners without one (attorneys, employers)
    phone TEXT,
    fax TEXT,
    email TEXT,
    address TEXT,
    city TEXT,
    state TEXT,
    zip TEXT,
    preferred_contact TEXT,
    stage TEXT NOT NULL DEFAULT 'prospect'
        CHECK (stage IN ('prospect','outreach','active','growing','mature','dormant')),
    stage_source TEXT NOT NULL DEFAULT 'suggested' CHECK (stage_source IN ('suggested','user')),
    tags TEXT NOT NULL DEFAULT '[]',   -- JSON list
    notes TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX partners_name ON partners(name COLLATE NOCASE);
CREATE UNIQUE INDEX partners_name_without_npi ON partners(name COLLATE NOCASE) WHERE npi IS NULL;

CREATE TABLE episodes (
    id TEXT PRIMARY KEY,           -- the clinic's episode id (natural key for re-imports)
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    partner_id INTEGER REFERENCES partners(id),   -- NULL: self-referred / direct access
    referral_date TEXT NOT NULL,
    body_region TEXT NOT NULL,
    diagnosis TEXT,                -- ICD-10-CM
    status TEXT NOT NULL DEFAULT 'received' CHECK (status IN
        ('received','scheduled','evaluated','in_care','discharged','not_scheduled','cancelled')),
    status_reason TEXT,
    scheduled_date TEXT,
    first_visit_date TEXT,
    discharge_date TEXT,
    visits INTEGER CHECK (visits IS NULL OR visits >= 0),
    discharge_reason TEXT,
    clinician TEXT,
    clinic TEXT,
    onset_date TEXT,
    chief_complaint TEXT,
    findings TEXT,
    treatment TEXT,
    plan TEXT,
    instrument TEXT,               -- the episode's primary instrument, if chosen
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX episodes_partner_date ON episodes(partner_id, referral_date);
CREATE INDEX episodes_referral_date ON episodes(referral_date);
CREATE INDEX episodes_patient ON episodes(patient_id);
CREATE INDEX episodes_discharge ON episodes(discharge_date) WHERE discharge_date IS NOT NULL;

CREATE TABLE outbound_referrals (
    id INTEGER PRIMARY KEY,
    episode_id TEXT REFERENCES episodes(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    date TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),   -- the clinical rationale
    created_at TEXT NOT NULL,
    UNIQUE (episode_id, partner_id, date)
);
CREATE INDEX outbound_partner_date ON outbound_referrals(partner_id, date);

CREATE VIEW referrals AS
    SELECT 'in' AS direction, id AS episode_id, partner_id, referral_date AS date,
           diagnosis AS reason
    FROM episodes
    UNION ALL
    SELECT 'out', episode_id, partner_id, date, reason FROM outbound_referrals;

CREATE TABLE touchpoints (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    date TEXT NOT NULL,
    method TEXT NOT NULL,
    who TEXT,
    summary TEXT NOT NULL DEFAULT '',
    amount REAL CHECK (amount IS NULL OR amount >= 0),  -- value of a gift or meal, in dollars
    next_follow_up TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (partner_id, date, method, summary)
);
CREATE INDEX touchpoints_partner_date ON touchpoints(partner_id, date);

CREATE TABLE communications (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    episode_id TEXT REFERENCES episodes(id),
    date TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN
        ('progress_update','discharge_summary','packet','letter','other')),
    channel TEXT NOT NULL,
    note TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX communications_partner_date ON communications(partner_id, date);
CREATE INDEX communications_episode ON communications(episode_id) WHERE episode_id IS NOT NULL;

CREATE TABLE responses (
    id INTEGER PRIMARY KEY,
    episode_id TEXT NOT NULL REFERENCES episodes(id),
    instrument TEXT NOT NULL,
    instrument_version TEXT NOT NULL,
    timepoint TEXT NOT NULL CHECK (timepoint IN ('intake','progress','discharge','follow_up')),
    date TEXT NOT NULL,
    answers TEXT,                  -- JSON list, null for a missing item; NULL when score_only
    scores TEXT NOT NULL,          -- JSON {scale: number|null}, full precision
    scorable INTEGER NOT NULL,
    reason TEXT,                   -- why not scorable
    score_only INTEGER NOT NULL DEFAULT 0,   -- only a total was available (imported)
    created_at TEXT NOT NULL,
    UNIQUE (episode_id, instrument, timepoint, date)
);
CREATE INDEX responses_episode ON responses(episode_id);

CREATE TABLE episode_outcomes (
    episode_id TEXT NOT NULL REFERENCES episodes(id),
    scale TEXT NOT NULL,
    instrument TEXT NOT NULL,
    partner_id INTEGER,            -- copied from episodes so scorecards need no join
    referral_date TEXT NOT NULL,   -- copied from episodes
    clinician TEXT,
    intake_score REAL,
    intake_date TEXT,
    final_score REAL,
    final_date TEXT,
    carried_forward INTEGER NOT NULL DEFAULT 0,   -- final is a progress score (self-discharge)
    improvement REAL,              -- signed: positive is better
    mcid_met INTEGER,
    PRIMARY KEY (episode_id, scale)
);
CREATE INDEX episode_outcomes_partner ON episode_outcomes(partner_id, referral_date);
CREATE INDEX episode_outcomes_date ON episode_outcomes(referral_date);

CREATE TABLE nps_responses (
    id INTEGER PRIMARY KEY,
    episode_id TEXT REFERENCES episodes(id),   -- NULL: counts clinic-wide only
    date TEXT NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
    comment TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX nps_natural_key ON nps_responses(coalesce(episode_id, ''), date, score, comment);
CREATE INDEX nps_date ON nps_responses(date);
CREATE INDEX nps_episode ON nps_responses(episode_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,          -- e.g. import, add, update, delete, rescore
    entity TEXT NOT NULL,          -- table name
    detail TEXT NOT NULL           -- JSON: ids, counts, source file
);
"""


@MIGRATIONS(name="0001_initial")
def m0001_initial(db: Database) -> None:
    for statement in _split_sql(_V1):
        db.execute(statement)


@MIGRATIONS(name="0002_audit_actor")
def m0002_audit_actor(db: Database) -> None:
    # Who made each write (the operating-system account), for audits of shared workstations.
    db.execute("ALTER TABLE audit_log ADD COLUMN actor TEXT")


def _split_sql(script: str) -> list[str]:
    """Split a schema script into statements (executescript would COMMIT our transaction)."""
    import sqlite3

    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"incomplete SQL statement in schema: {current!r}")
    return statements


# The schema version is the number of migrations (stored as PRAGMA user_version).
SCHEMA_VERSION = len(MIGRATIONS._migrations)
