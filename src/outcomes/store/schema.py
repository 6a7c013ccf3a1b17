"""The database schema, as versioned migrations.

One module because the migrations are one ordered list whose length is the schema version:
split across files, their order would depend on import order.

Each migration is a function applied once, in order, inside one transaction (sqlite-utils 4
``Migrations``). Never edit a released migration: add a new one, bump nothing else by hand
(``SCHEMA_VERSION`` follows the number of migrations), and add a fixture database for the
released version under ``tests/data/schemas/`` so the upgrade test covers it.

One module because the migrations are one ordered history: the frozen SQL of each version, the
triggers it installed (monthly roll-ups, change log) and the helpers that drop and restore
them around a bulk load must be read together to know what a database of a given version holds.

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

import contextlib
from collections.abc import Iterator

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from outcomes.dates import AGE_BANDS
from outcomes.store.dbinfo import APPLICATION_ID, SCHEMA_VERSION
from outcomes.store.funnel_rules import FUNNEL_STAGES, UNSCHEDULED_REASON, funnel_stage_sql

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
CREATE UNIQUE INDEX nps_natural_key
    ON nps_responses(coalesce(episode_id, ''), date, score, comment);
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


# Monthly rollups for scorecards: (partner, month) sums and distributions, kept exact by triggers
# on every write path, so a year's scorecard reads a few thousand rows instead of every episode.
# partner_key is the partner id, or 0 for self-referred episodes (NULLs never conflict in keys).
# Keys lead with the month: a period is one range scan.
_V3 = """
CREATE TABLE roll_episodes (
    partner_key INTEGER NOT NULL, month TEXT NOT NULL,
    n INTEGER NOT NULL, evaluated INTEGER NOT NULL, discharged INTEGER NOT NULL,
    PRIMARY KEY (month, partner_key)
) WITHOUT ROWID;
CREATE TABLE roll_visits (
    partner_key INTEGER NOT NULL, month TEXT NOT NULL, visits INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (month, partner_key, visits)
) WITHOUT ROWID;
CREATE TABLE roll_days (
    partner_key INTEGER NOT NULL, month TEXT NOT NULL, days INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (month, partner_key, days)
) WITHOUT ROWID;
CREATE TABLE roll_outcomes (
    partner_key INTEGER NOT NULL, month TEXT NOT NULL, scale TEXT NOT NULL,
    instrument TEXT NOT NULL, carried_forward INTEGER NOT NULL,
    n INTEGER NOT NULL, s_intake REAL NOT NULL, s_final REAL NOT NULL,
    s_improvement REAL NOT NULL, met INTEGER NOT NULL, judged INTEGER NOT NULL,
    PRIMARY KEY (month, partner_key, scale, instrument, carried_forward)
) WITHOUT ROWID;
CREATE TABLE roll_nps (
    partner_key INTEGER NOT NULL, month TEXT NOT NULL,
    promoters INTEGER NOT NULL, passives INTEGER NOT NULL, detractors INTEGER NOT NULL,
    PRIMARY KEY (month, partner_key)
) WITHOUT ROWID;
"""

# One trigger body per (table, sign): {r} is the row alias (new/old), {s} the sign (+1/-1).
_EPISODE_ROLL = """
INSERT INTO roll_episodes VALUES (coalesce({r}.partner_id, 0), substr({r}.referral_date, 1, 7),
    {s}, {s} * ({r}.first_visit_date IS NOT NULL), {s} * ({r}.status = 'discharged'))
  ON CONFLICT DO UPDATE SET n = n + excluded.n, evaluated = evaluated + excluded.evaluated,
    discharged = discharged + excluded.discharged;
INSERT INTO roll_visits SELECT coalesce({r}.partner_id, 0), substr({r}.referral_date, 1, 7),
    {r}.visits, {s} WHERE {r}.status = 'discharged' AND {r}.visits IS NOT NULL
  ON CONFLICT DO UPDATE SET n = n + excluded.n;
INSERT INTO roll_days SELECT coalesce({r}.partner_id, 0), substr({r}.referral_date, 1, 7),
    CAST(julianday({r}.first_visit_date) - julianday({r}.referral_date) AS INTEGER), {s}
    WHERE {r}.first_visit_date IS NOT NULL
  ON CONFLICT DO UPDATE SET n = n + excluded.n;
"""
_OUTCOME_ROLL = """
INSERT INTO roll_outcomes SELECT coalesce({r}.partner_id, 0), substr({r}.referral_date, 1, 7),
    {r}.scale, {r}.instrument, {r}.carried_forward, {s}, {s} * {r}.intake_score,
    {s} * {r}.final_score, {s} * coalesce({r}.improvement, 0), {s} * coalesce({r}.mcid_met, 0),
    {s} * ({r}.mcid_met IS NOT NULL)
    WHERE {r}.intake_score IS NOT NULL AND {r}.final_score IS NOT NULL
  ON CONFLICT DO UPDATE SET n = n + excluded.n, s_intake = s_intake + excluded.s_intake,
    s_final = s_final + excluded.s_final, s_improvement = s_improvement + excluded.s_improvement,
    met = met + excluded.met, judged = judged + excluded.judged;
"""
_NPS_ROLL = """
INSERT INTO roll_nps SELECT coalesce(e.partner_id, 0), substr({r}.date, 1, 7),
    {s} * ({r}.score >= 9), {s} * ({r}.score BETWEEN 7 AND 8), {s} * ({r}.score <= 6)
    FROM (SELECT 1) LEFT JOIN episodes e ON e.id = {r}.episode_id WHERE true
  ON CONFLICT DO UPDATE SET promoters = promoters + excluded.promoters,
    passives = passives + excluded.passives, detractors = detractors + excluded.detractors;
"""


_V12 = f"""
CREATE TABLE roll_funnel (
    partner_key INTEGER NOT NULL, month TEXT NOT NULL,
    {", ".join(f"{name} INTEGER NOT NULL" for name, _ in FUNNEL_STAGES)},
    PRIMARY KEY (month, partner_key)
) WITHOUT ROWID;
CREATE TABLE roll_unscheduled (
    partner_key INTEGER NOT NULL, month TEXT NOT NULL, reason TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (month, partner_key, reason)
) WITHOUT ROWID;
"""


def _funnel_roll(r: str, s: str) -> str:
    stages = ", ".join(f"{s} * {sql}" for sql in funnel_stage_sql(f"{r}."))
    sums = ", ".join(f"{name} = {name} + excluded.{name}" for name, _ in FUNNEL_STAGES)
    return (
        f" INSERT INTO roll_funnel VALUES (coalesce({r}.partner_id, 0),"
        f" substr({r}.referral_date, 1, 7), {stages}) ON CONFLICT DO UPDATE SET {sums};"
        f" INSERT INTO roll_unscheduled SELECT coalesce({r}.partner_id, 0),"
        f" substr({r}.referral_date, 1, 7), {UNSCHEDULED_REASON.format(r=f'{r}.')}, {s}"
        f" WHERE {r}.status = 'not_scheduled' ON CONFLICT DO UPDATE SET n = n + excluded.n;"
    )


FUNNEL_COLUMNS = ("partner_id, referral_date, status, scheduled_date, first_visit_date,"
                  " discharge_reason, status_reason")


def _funnel_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER roll_funnel_ins AFTER INSERT ON episodes BEGIN{_funnel_roll('new', '1')}"
        " END",
        f"CREATE TRIGGER roll_funnel_del AFTER DELETE ON episodes BEGIN{_funnel_roll('old', '-1')}"
        " END",
        f"CREATE TRIGGER roll_funnel_upd AFTER UPDATE OF {FUNNEL_COLUMNS} ON episodes BEGIN"
        f"{_funnel_roll('old', '-1')}{_funnel_roll('new', '1')} END",
    ]


_FUNNEL_BACKFILL = (
    "DELETE FROM roll_funnel",
    "DELETE FROM roll_unscheduled",
    "INSERT INTO roll_funnel SELECT coalesce(partner_id, 0), substr(referral_date, 1, 7), "
    + ", ".join(f"sum({sql})" for sql in funnel_stage_sql()) + " FROM episodes GROUP BY 1, 2",
    "INSERT INTO roll_unscheduled SELECT coalesce(partner_id, 0), substr(referral_date, 1, 7), "
    + UNSCHEDULED_REASON.format(r="") + ", count(*) FROM episodes"
    " WHERE status = 'not_scheduled' GROUP BY 1, 2, 3",
)


def _triggers() -> list[str]:
    """Every roll-up trigger of the current schema."""
    return [*_v3_triggers(), *_funnel_triggers()]


def _v3_triggers() -> list[str]:
    def body(template: str, *parts: tuple[str, str]) -> str:
        return "".join(template.format(r=r, s=s) for r, s in parts)

    episode_cols = "partner_id, referral_date, status, visits, first_visit_date"
    outcome_cols = ("partner_id, referral_date, scale, instrument, carried_forward, intake_score,"
                    " final_score, improvement, mcid_met")
    return [
        f"CREATE TRIGGER roll_episodes_ins AFTER INSERT ON episodes BEGIN"
        f"{body(_EPISODE_ROLL, ('new', '1'))} END",
        f"CREATE TRIGGER roll_episodes_del AFTER DELETE ON episodes BEGIN"
        f"{body(_EPISODE_ROLL, ('old', '-1'))} END",
        f"CREATE TRIGGER roll_episodes_upd AFTER UPDATE OF {episode_cols} ON episodes BEGIN"
        f"{body(_EPISODE_ROLL, ('old', '-1'), ('new', '1'))} END",
        f"CREATE TRIGGER roll_outcomes_ins AFTER INSERT ON episode_outcomes BEGIN"
        f"{body(_OUTCOME_ROLL, ('new', '1'))} END",
        f"CREATE TRIGGER roll_outcomes_del AFTER DELETE ON episode_outcomes BEGIN"
        f"{body(_OUTCOME_ROLL, ('old', '-1'))} END",
        f"CREATE TRIGGER roll_outcomes_upd AFTER UPDATE OF {outcome_cols} ON episode_outcomes"
        f" BEGIN{body(_OUTCOME_ROLL, ('old', '-1'), ('new', '1'))} END",
        f"CREATE TRIGGER roll_nps_ins AFTER INSERT ON nps_responses BEGIN"
        f"{body(_NPS_ROLL, ('new', '1'))} END",
        f"CREATE TRIGGER roll_nps_del AFTER DELETE ON nps_responses BEGIN"
        f"{body(_NPS_ROLL, ('old', '-1'))} END",
        f"CREATE TRIGGER roll_nps_upd AFTER UPDATE OF episode_id, date, score ON nps_responses"
        f" BEGIN{body(_NPS_ROLL, ('old', '-1'), ('new', '1'))} END",
        # An episode that changes referrer or referral date carries its copies along: the
        # outcome summary rows (and so their rollup) and the attribution of its NPS answers.
        "CREATE TRIGGER episode_copies_upd AFTER UPDATE OF partner_id, referral_date, clinician"
        " ON episodes BEGIN"
        " UPDATE episode_outcomes SET partner_id = new.partner_id,"
        " referral_date = new.referral_date, clinician = new.clinician WHERE episode_id = new.id;"
        " END",
        "CREATE TRIGGER episode_nps_partner_upd AFTER UPDATE OF partner_id ON episodes"
        " WHEN old.partner_id IS NOT new.partner_id BEGIN"
        " INSERT INTO roll_nps SELECT coalesce(old.partner_id, 0), substr(n.date, 1, 7),"
        " -(n.score >= 9), -(n.score BETWEEN 7 AND 8), -(n.score <= 6)"
        " FROM nps_responses n WHERE n.episode_id = new.id"
        " ON CONFLICT DO UPDATE SET promoters = promoters + excluded.promoters,"
        " passives = passives + excluded.passives, detractors = detractors + excluded.detractors;"
        " INSERT INTO roll_nps SELECT coalesce(new.partner_id, 0), substr(n.date, 1, 7),"
        " (n.score >= 9), (n.score BETWEEN 7 AND 8), (n.score <= 6)"
        " FROM nps_responses n WHERE n.episode_id = new.id"
        " ON CONFLICT DO UPDATE SET promoters = promoters + excluded.promoters,"
        " passives = passives + excluded.passives, detractors = detractors + excluded.detractors;"
        " END",
    ]


# The NPS roll-up's sums over answers (each answer under its episode's partner, or 0): the
# backfill sums them all, an appending load only its new ones.
_NPS_SUMS = (
    "SELECT coalesce(e.partner_id, 0), substr(n.date, 1, 7), sum(n.score >= 9),"
    " sum(n.score BETWEEN 7 AND 8), sum(n.score <= 6)"
    " FROM nps_responses n LEFT JOIN episodes e ON e.id = n.episode_id"
)
_V3_BACKFILL = (
    "DELETE FROM roll_episodes",
    "DELETE FROM roll_visits",
    "DELETE FROM roll_days",
    "DELETE FROM roll_outcomes",
    "DELETE FROM roll_nps",
    "INSERT INTO roll_episodes SELECT coalesce(partner_id, 0), substr(referral_date, 1, 7),"
    " count(*), sum(first_visit_date IS NOT NULL), sum(status = 'discharged') FROM episodes"
    " GROUP BY 1, 2",
    "INSERT INTO roll_visits SELECT coalesce(partner_id, 0), substr(referral_date, 1, 7), visits,"
    " count(*) FROM episodes WHERE status = 'discharged' AND visits IS NOT NULL GROUP BY 1, 2, 3",
    "INSERT INTO roll_days SELECT coalesce(partner_id, 0), substr(referral_date, 1, 7),"
    " CAST(julianday(first_visit_date) - julianday(referral_date) AS INTEGER), count(*)"
    " FROM episodes WHERE first_visit_date IS NOT NULL GROUP BY 1, 2, 3",
    # Grouped in the roll-up's key order (month first), so its rows go into its b-tree in
    # order: 0.6 s instead of 0.9 s for 333,000 summary rows, the same sums.
    "INSERT INTO roll_outcomes SELECT coalesce(partner_id, 0), substr(referral_date, 1, 7), scale,"
    " instrument, carried_forward, count(*), total(intake_score), total(final_score),"
    " total(improvement), total(coalesce(mcid_met, 0)), count(mcid_met) FROM episode_outcomes"
    " WHERE intake_score IS NOT NULL AND final_score IS NOT NULL GROUP BY 2, 1, 3, 4, 5",
    f"INSERT INTO roll_nps {_NPS_SUMS} GROUP BY 1, 2",
)
ROLLUP_BACKFILL = _V3_BACKFILL + _FUNNEL_BACKFILL
"""Every roll-up table emptied, then summed again from the raw rows (one statement each)."""


AGE_BAND_TABLES = frozenset({"episodes", "patients"})
"""The tables whose writes can change an episode's age band (the triggers' tables)."""

TRIGGER_NAMES = (
    "roll_episodes_ins", "roll_episodes_del", "roll_episodes_upd", "roll_outcomes_ins",
    "roll_outcomes_del", "roll_outcomes_upd", "roll_nps_ins", "roll_nps_del", "roll_nps_upd",
    "episode_copies_upd", "episode_nps_partner_upd", "roll_funnel_ins", "roll_funnel_del",
    "roll_funnel_upd",
)


_ROLLUP_FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # family: (its per-row triggers, the roll-up tables they keep)
    "episodes": (("roll_episodes_ins", "roll_episodes_del", "roll_episodes_upd",
                  "episode_copies_upd", "episode_nps_partner_upd", "roll_funnel_ins",
                  "roll_funnel_del", "roll_funnel_upd"),
                 ("roll_episodes", "roll_visits", "roll_days", "roll_funnel", "roll_unscheduled")),
    "outcomes": (("roll_outcomes_ins", "roll_outcomes_del", "roll_outcomes_upd"),
                 ("roll_outcomes",)),
    "nps": (("roll_nps_ins", "roll_nps_del", "roll_nps_upd"), ("roll_nps",)),
}
_FAMILIES_OF_TABLE: dict[str, tuple[str, ...]] = {
    # What a bulk load of each table can change (a responses load rewrites episode_outcomes);
    # a table not listed may change anything. Touchpoints, outbound referrals, partners and
    # goals feed no roll-up.
    "responses": ("outcomes",),
    "nps_responses": ("nps",),
    "touchpoints": (),
    "outbound_referrals": (),
    "partners": (),
    "episode_goals": (),
}


_APPENDED_ROLLUPS: dict[str, tuple[str, str]] = {
    # table: (its roll-up, the sums of the rows after a rowid added to it), for loads that only
    # append (rowids only grow, so the new rows are those past the largest one before).
    "nps_responses": ("roll_nps", (
        f"INSERT INTO roll_nps {_NPS_SUMS} WHERE n.rowid > ?"
        " GROUP BY 1, 2 ON CONFLICT DO UPDATE SET promoters = promoters + excluded.promoters,"
        " passives = passives + excluded.passives, detractors = detractors + excluded.detractors"
    )),
}


@contextlib.contextmanager
def rollups_rebuilt_after(db: Database, *, writes: str | None = None,
                          appends_only: bool = False) -> Iterator[None]:
    """For a bulk load: write without the per-row rollup triggers, then rebuild the rollups in
    one pass and put the triggers back. Call inside the load's transaction, so the load, the
    rebuild and the triggers land together or not at all. A per-row trigger costs ~50 us per
    episode; the rebuild reads every row once, so this pays only when the load is large.

    ``writes``: the table the load writes (None: any). Only the roll-ups that table feeds are
    rebuilt, and only their triggers dropped; the others stay in place (they would fire, and
    stay right, if the load wrote their tables after all). The age-band triggers are dropped
    and every band recomputed only for a load of episodes or patients (seconds on a big
    clinic).

    ``appends_only``: the load only adds rows to ``writes`` (the NPS import's inserts ignore a
    repeat and never update): its roll-up then gains the new rows' sums instead of being summed
    again over the whole table (a quarter of a second of a 150,000-answer import)."""
    if not db.conn.in_transaction:
        raise RuntimeError("rollups_rebuilt_after() must run inside a transaction")
    appended = _APPENDED_ROLLUPS.get(writes or "") if appends_only else None
    appended_after = (db.execute(f"SELECT coalesce(max(rowid), 0) FROM {writes}").fetchone()[0]
                      if appended else None)
    families = (tuple(_ROLLUP_FAMILIES) if writes is None
                else _FAMILIES_OF_TABLE.get(writes, tuple(_ROLLUP_FAMILIES)))
    triggers = [t for f in families for t in _ROLLUP_FAMILIES[f][0]]
    tables = {t for f in families for t in _ROLLUP_FAMILIES[f][1]}
    age_bands = writes is None or writes in AGE_BAND_TABLES
    for name in (*triggers, *(AGE_BAND_TRIGGER_NAMES if age_bands else ())):
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    # A responses load writes the outcome summary's rows as it goes, and their four secondary
    # indexes (the scorecards' covering ones) cost more per row than the row itself (1.8 s
    # against 0.5 s per 100,000 responses): they are dropped for the load and built once after
    # it (1.4 s for the whole benchmark history), from their own stored definitions. Same
    # transaction: a rollback brings them back.
    indexes = [] if writes != "responses" else list(db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name = 'episode_outcomes'").fetchall())
    for name, _sql in indexes:
        db.execute(f'DROP INDEX "{name}"')
    # The change log's per-row triggers cost as much again (a 40k-episode history import took
    # 20-24 s with them, 15 s without): a bulk load leaves one mark for the next sync instead.
    with change_log_in_bulk(db):
        yield
    for _name, sql in indexes:
        db.execute(sql)
    # episode_copies_upd keeps episode_outcomes' copies in step; without it a bulk update must
    # have refreshed the summary itself (the importers do), so only the rollups are rebuilt.
    for statement in ROLLUP_BACKFILL:
        table = statement.split()[2]  # "DELETE FROM t" / "INSERT INTO t SELECT ..."
        if table in tables and not (appended and table == appended[0]):
            db.execute(statement)
    if appended:
        db.execute(appended[1], [appended_after])
    for statement in _triggers():
        if statement.split()[2] in triggers:  # "CREATE TRIGGER name ..."
            db.execute(statement)
    if age_bands:
        # One pass over the episodes instead of a trigger per row.
        backfill_age_bands(db)
        for statement in age_band_triggers():
            db.execute(statement)


@MIGRATIONS(name="0003_rollups")
def m0003_rollups(db: Database) -> None:
    for statement in _split_sql(_V3):
        db.execute(statement)
    for statement in _V3_BACKFILL[5:]:
        db.execute(statement)
    for statement in _v3_triggers():
        db.execute(statement)


@MIGRATIONS(name="0004_audit_chain")
def m0004_audit_chain(db: Database) -> None:
    # Chain each audit row to the previous one (store/audit.py): `outcomes audit verify` then
    # finds a row deleted, inserted or altered outside the app. Existing rows are hashed now,
    # in id order, so the chain covers the whole log from this version on.
    from outcomes.store import audit

    db.execute("ALTER TABLE audit_log ADD COLUMN prev_hash TEXT")
    db.execute("ALTER TABLE audit_log ADD COLUMN hash TEXT")
    audit.rechain(db)


# The change log read by ``outcomes sync`` (outcomes.group.sync): one row per synced record,
# (entity, key) -> seq, where seq is raised past every other on each insert, update or delete.
# A sync sends the records whose seq is above the cursor the group database holds for this
# clinic, reading each record's current state (or its absence: a delete). One row per record,
# not per write, so the log never outgrows the tables it follows. It is an upsert, not
# INSERT OR REPLACE: a trigger's OR-clause is overridden by the outer statement's (an
# INSERT OR IGNORE would then keep the old seq and the change would never be sent).
# Entities: episode (episodes.id; a patient's change marks each of the patient's episodes,
# which carry the de-identified patient fields), outcomes (all episode_outcomes rows of one
# episode_id) and nps (nps_responses.id). Partners are not logged: they are few, and a sync
# compares a digest of them all instead (a trigger on partners would also count in
# total_changes, which the NPPES prospect import reads as its number of partners added).
_CHANGE_LOG = """
CREATE TABLE change_log (
    entity TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (entity, key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX change_log_seq ON change_log(seq);
"""

_MARK = ("INSERT INTO change_log (entity, key, seq) VALUES ('{entity}', {key},"
         " (SELECT coalesce(max(seq), 0) + 1 FROM change_log))"
         " ON CONFLICT (entity, key) DO UPDATE SET seq = excluded.seq;")

# (trigger name prefix, table, entity, key column)
_LOGGED = (
    ("episode", "episodes", "episode", "id"),
    ("outcomes", "episode_outcomes", "outcomes", "episode_id"),
    ("nps", "nps_responses", "nps", "id"),
)


def change_log_triggers() -> list[str]:
    """The triggers that keep ``change_log`` current (migration 0005)."""
    statements = []
    for prefix, table, entity, key in _LOGGED:
        new = _MARK.format(entity=entity, key=f"new.{key}")
        old = _MARK.format(entity=entity, key=f"old.{key}")
        statements += [
            f"CREATE TRIGGER changes_{prefix}_ins AFTER INSERT ON {table} BEGIN {new} END",
            f"CREATE TRIGGER changes_{prefix}_del AFTER DELETE ON {table} BEGIN {old} END",
            # A changed key is a delete of the old key and an insert of the new one.
            f"CREATE TRIGGER changes_{prefix}_upd AFTER UPDATE ON {table} BEGIN {new} END",
            f"CREATE TRIGGER changes_{prefix}_rekey AFTER UPDATE OF {key} ON {table}"
            f" WHEN old.{key} IS NOT new.{key} BEGIN {old} END",
        ]
    statements.append(
        "CREATE TRIGGER changes_patient_upd AFTER UPDATE OF record_number, birth_date, sex, name"
        " ON patients BEGIN INSERT INTO change_log (entity, key, seq)"
        " SELECT 'episode', e.id, (SELECT coalesce(max(seq), 0) FROM change_log)"
        " + row_number() OVER (ORDER BY e.id) FROM episodes e WHERE e.patient_id = new.id"
        " ORDER BY e.id"
        " ON CONFLICT (entity, key) DO UPDATE SET seq = excluded.seq; END"
    )
    return statements


CHANGE_LOG_TRIGGER_NAMES = (
    *(f"changes_{prefix}_{kind}" for prefix, *_ in _LOGGED
      for kind in ("ins", "del", "upd", "rekey")),
    "changes_patient_upd",
)

# The mark a bulk load leaves instead of one change per row: the next sync sends every record
# and deletes from the group database what the clinic no longer has.
BULK = ("all", "*")


@contextlib.contextmanager
def change_log_in_bulk(db: Database) -> Iterator[None]:
    """For a bulk load, beside :func:`rollups_rebuilt_after`: write without the per-row
    change-log triggers (each costs about as much as the row's own insert), then log one bulk
    mark. Call inside the load's transaction, so the load and the mark land together."""
    if not db.conn.in_transaction:
        raise RuntimeError("change_log_in_bulk() must run inside a transaction")
    for name in CHANGE_LOG_TRIGGER_NAMES:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    yield
    db.execute(_MARK.format(entity=BULK[0], key=f"'{BULK[1]}'"))
    for statement in change_log_triggers():
        db.execute(statement)


# Every existing record is a change not yet sent (seq in table order).
CHANGE_LOG_BACKFILL = (
    "INSERT INTO change_log (entity, key, seq) SELECT entity, key, row_number() OVER ()"
    " FROM (SELECT 'episode' AS entity, id AS key, 2 AS t FROM episodes"
    " UNION ALL SELECT DISTINCT 'outcomes', episode_id, 3 FROM episode_outcomes"
    " UNION ALL SELECT 'nps', CAST(id AS TEXT), 4 FROM nps_responses ORDER BY t, key)",
)


@MIGRATIONS(name="0005_change_log")
def m0005_change_log(db: Database) -> None:
    for statement in _split_sql(_CHANGE_LOG):
        db.execute(statement)
    for statement in CHANGE_LOG_BACKFILL:
        db.execute(statement)
    for statement in change_log_triggers():
        db.execute(statement)


@MIGRATIONS(name="0006_alert_states")
def m0006_alert_states(db: Database) -> None:
    # What the user did with an alert in the dashboard's queue (network/queue.py): done, or
    # snoozed until a date. Keyed by the alert's stable key; `facts` is the fingerprint of the
    # alert when the state was set, so an alert whose facts change comes back.
    db.execute(
        "CREATE TABLE alert_states ("
        " key TEXT PRIMARY KEY,"
        " kind TEXT NOT NULL,"
        " state TEXT NOT NULL CHECK (state IN ('done', 'snoozed')),"
        " facts TEXT NOT NULL,"
        " until TEXT CHECK (until IS NULL OR date(until) = until),"
        " updated_at TEXT NOT NULL,"
        " CHECK ((state = 'snoozed') = (until IS NOT NULL))"
        ")")




# The referrer loop (issue 12): the clinical content a letter is made from, the plan-of-care
# certification, goals, the state of each outbound referral, and what became of each document
# (made, then sent on a channel, with the file's SHA-256).
_V6 = """
ALTER TABLE episodes ADD COLUMN history TEXT;
ALTER TABLE episodes ADD COLUMN referral_question TEXT;
ALTER TABLE episodes ADD COLUMN precautions TEXT;
ALTER TABLE episodes ADD COLUMN plan_frequency TEXT;
ALTER TABLE episodes ADD COLUMN plan_duration TEXT;
ALTER TABLE episodes ADD COLUMN plan_interventions TEXT;
ALTER TABLE episodes ADD COLUMN physician_follow_up TEXT;
ALTER TABLE episodes ADD COLUMN poc_sent_date TEXT;
ALTER TABLE episodes ADD COLUMN poc_certified_date TEXT;
ALTER TABLE episodes ADD COLUMN poc_certified_by TEXT
    CHECK (poc_certified_by IS NULL OR poc_certified_by IN ('signed','order_on_file'));

CREATE TABLE episode_goals (
    id INTEGER PRIMARY KEY,
    episode_id TEXT NOT NULL REFERENCES episodes(id),
    goal TEXT NOT NULL CHECK (length(trim(goal)) > 0),
    target_date TEXT,
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open','met','partly_met','not_met')),
    created_at TEXT NOT NULL,
    UNIQUE (episode_id, goal)
);

-- Rows logged before this version were logged as sent.
ALTER TABLE communications ADD COLUMN document TEXT;
ALTER TABLE communications ADD COLUMN status TEXT NOT NULL DEFAULT 'sent'
    CHECK (status IN ('made','sent'));
ALTER TABLE communications ADD COLUMN sent_date TEXT;
ALTER TABLE communications ADD COLUMN sha256 TEXT;
ALTER TABLE communications ADD COLUMN file TEXT;
UPDATE communications SET sent_date = date;
UPDATE communications SET document = kind
    WHERE kind IN ('progress_update','discharge_summary','packet');

ALTER TABLE outbound_referrals ADD COLUMN question TEXT;
ALTER TABLE outbound_referrals ADD COLUMN status TEXT NOT NULL DEFAULT 'sent'
    CHECK (status IN ('sent','scheduled','seen','findings_received','closed'));
ALTER TABLE outbound_referrals ADD COLUMN scheduled_date TEXT;
ALTER TABLE outbound_referrals ADD COLUMN seen_date TEXT;
ALTER TABLE outbound_referrals ADD COLUMN findings_date TEXT;
ALTER TABLE outbound_referrals ADD COLUMN findings TEXT;
ALTER TABLE outbound_referrals ADD COLUMN closed_date TEXT;
"""


@MIGRATIONS(name="0007_referrer_loop")
def m0007_referrer_loop(db: Database) -> None:
    for statement in _split_sql(_V6):
        db.execute(statement)


# Conditions (issue 18): the procedure and surgical status of each episode, and on each
# outcome summary row the episode's condition group, procedure, surgical status and whether the
# row is the episode's primary measure (one per episode, so a pooled rate counts an episode
# once). The summary columns are derived (outcomes.measures.conditions, summary.refresh keeps
# them current); the partial covering index serves the scorecard's by-condition figures (every
# column the query reads is in it: without `surgical` it read the table and took 3x longer).
_V8 = """
ALTER TABLE episodes ADD COLUMN procedure TEXT;
ALTER TABLE episodes ADD COLUMN surgical INTEGER CHECK (surgical IS NULL OR surgical IN (0, 1));
ALTER TABLE episode_outcomes ADD COLUMN condition_group TEXT;
ALTER TABLE episode_outcomes ADD COLUMN procedure TEXT;
ALTER TABLE episode_outcomes ADD COLUMN surgical INTEGER;
ALTER TABLE episode_outcomes ADD COLUMN is_primary INTEGER NOT NULL DEFAULT 0;
CREATE INDEX episode_outcomes_primary ON episode_outcomes(referral_date, partner_id,
    condition_group, procedure, mcid_met, surgical)
    WHERE is_primary = 1 AND carried_forward = 0 AND improvement IS NOT NULL;
"""


@MIGRATIONS(name="0008_conditions")
def m0008_conditions(db: Database) -> None:
    for statement in _split_sql(_V8):
        db.execute(statement)
    _classify_v8(db)


def _classify_v8(db: Database) -> None:
    """Fill the new summary columns of the rows already there, by the rules of
    ``outcomes.measures.conditions`` (which this layer may not import) applied to the shipped
    ``data/conditions.toml``: the longest ICD-10 prefix names the group, else "Other <region>";
    the primary measure is the episode's own instrument, else the first of its region's list
    answered at intake, else the first of the list. No episode has a procedure yet."""
    import tomllib
    from importlib import resources

    tables = tomllib.loads(resources.files("outcomes").joinpath("data/conditions.toml")
                           .read_text("utf-8"))
    prefixes = sorted(((p, g["name"]) for g in tables["group"] for p in g["prefixes"]),
                      key=lambda pg: -len(pg[0]))
    primary: dict[str, list[str]] = tables["primary"]
    # The first scale of each instrument is its primary scale; only PROMIS-10 has two scales
    # whose id differs from the instrument's (surveys/promis10.toml lists gph first).
    first_scale = {"promis10": "gph"}
    scales: dict[str, list[tuple[str, str, bool]]] = {}
    for episode_id, scale, instrument, intake in db.execute(
            "SELECT episode_id, scale, instrument, intake_score IS NOT NULL"
            " FROM episode_outcomes"):
        scales.setdefault(episode_id, []).append((scale, instrument, bool(intake)))
    updates = []
    for episode_id, region, diagnosis, chosen in db.execute(
            "SELECT id, body_region, diagnosis, instrument FROM episodes"):
        if episode_id not in scales:
            continue
        code = (diagnosis or "").upper()
        group = next((name for prefix, name in prefixes if code and code.startswith(prefix)),
                     None)
        if group is None:
            group = "Other condition" if region in (None, "other") else f"Other {region}"
        answered = {i for _s, i, intake in scales[episode_id] if intake}
        listed = primary.get(region or "other", primary["other"])
        main = chosen or next((i for i in listed if i in answered), listed[0])
        main_scale = first_scale.get(main, main)
        for scale, instrument, _intake in scales[episode_id]:
            updates.append((group, int(instrument == main and scale == main_scale),
                            episode_id, scale))
    db.conn.executemany("UPDATE episode_outcomes SET condition_group = ?, is_primary = ?"
                        " WHERE episode_id = ? AND scale = ?", updates)


# Risk-adjusted outcomes (issue 18): each `outcomes model fit` adds one row per measure (scale)
# with the fitted model as JSON (design, coefficients and standard errors, fit figures,
# calibration by decile, whether it validates and why not); the latest row of a scale is the
# model in use, earlier ones stay as the history of what the clinic's figures rested on.
_V9 = """
CREATE TABLE outcome_models (
    id INTEGER PRIMARY KEY,
    scale TEXT NOT NULL,
    fitted_at TEXT NOT NULL,
    n INTEGER NOT NULL CHECK (n >= 0),
    validates INTEGER NOT NULL CHECK (validates IN (0, 1)),
    model TEXT NOT NULL            -- JSON: outcomes.reports.riskmodel.RiskModel.as_dict()
);
CREATE INDEX outcome_models_scale ON outcome_models(scale, id);
"""


@MIGRATIONS(name="0009_outcome_models")
def m0009_outcome_models(db: Database) -> None:
    for statement in _split_sql(_V9):
        db.execute(statement)


# Amended responses (issue 17): a stored response whose answers were corrected with a stated
# reason keeps the mark of it on the row (when, why); the old answers and scores are in the
# audit log. A plain replace (a typing slip caught at once) leaves no mark on the row.
_V10 = """
ALTER TABLE responses ADD COLUMN amended_at TEXT;
ALTER TABLE responses ADD COLUMN amendment_reason TEXT;
"""


@MIGRATIONS(name="0010_response_amendments")
def m0010_response_amendments(db: Database) -> None:
    for statement in _split_sql(_V10):
        db.execute(statement)


# Time to recovery and the age band (issue 18), stored so the evidence figures read one table
# and never ``patients``. On each summary row: the day of recovery (days from the first visit to
# the first later response reaching the MCID over the intake score on that scale) or of
# censoring (the last later response), and whether it recovered; NULL without a first visit, an
# intake, a later score or a published MCID (outcomes.measures.summary computes them). On each
# episode: the age band at the first visit, from the patient's birth date, kept current by the
# triggers below on every write path (the bulk loads drop them and run backfill_age_bands).
# The partial covering index serves the curves (outcomes.reports.recovery): a year's followed
# episodes without reading the table.
_V11 = """
ALTER TABLE episode_outcomes ADD COLUMN recovery_days INTEGER;
ALTER TABLE episode_outcomes ADD COLUMN recovered INTEGER;
ALTER TABLE episodes ADD COLUMN age_band TEXT;
CREATE INDEX episode_outcomes_recovery ON episode_outcomes(referral_date, partner_id,
    episode_id, scale, condition_group, recovery_days, recovered)
    WHERE is_primary = 1 AND recovery_days IS NOT NULL;
"""

# outcomes.dates.age_band in SQL (the same AGE_BANDS): the age in whole years on the first
# visit, NULL without a valid birth date or with one after the first visit. The age is
# computed once per evaluation (a subquery), and the patient is looked up once: written out in
# each WHEN, the backfill of a large clinic took 20 s.
_AGE = ("CAST(strftime('%Y', {fv}) AS INTEGER) - CAST(strftime('%Y', {birth}) AS INTEGER)"
        " - (strftime('%m-%d', {fv}) < strftime('%m-%d', {birth}))")


_BANDS = tuple((high, f"{low}-{high}") for low, high in AGE_BANDS)


def age_band_sql(first_visit: str, birth: str) -> str:
    """An SQL expression of the age band at ``first_visit`` for ``birth`` (two SQL terms)."""
    age = (f"CASE WHEN julianday({first_visit}) IS NULL OR julianday({birth}) IS NULL"
           f" OR {birth} > {first_visit} THEN NULL"
           f" ELSE {_AGE.format(fv=first_visit, birth=birth)} END")
    return ("(SELECT CASE WHEN a.age IS NULL THEN NULL"
            + "".join(f" WHEN a.age <= {high} THEN '{band}'" for high, band in _BANDS)
            + f" ELSE '90+' END FROM (SELECT {age} AS age) AS a)")


_EPISODE_BAND = ("(SELECT " + age_band_sql("{e}.first_visit_date", "p.birth_date")
                 + " FROM patients p WHERE p.id = {e}.patient_id)")


def age_band_triggers() -> list[str]:
    """Keep ``episodes.age_band`` current: a new episode, a changed first visit or patient, a
    changed birth date. The WHEN clause skips the update (and its change-log mark) when the
    band is unchanged."""
    band_new = _EPISODE_BAND.format(e="new")
    band_e = _EPISODE_BAND.format(e="episodes")
    return [
        f"CREATE TRIGGER age_band_ins AFTER INSERT ON episodes WHEN new.age_band IS NOT"
        f" {band_new} BEGIN UPDATE episodes SET age_band = {band_new} WHERE id = new.id; END",
        f"CREATE TRIGGER age_band_upd AFTER UPDATE OF first_visit_date, patient_id, age_band"
        f" ON episodes WHEN new.age_band IS NOT {band_new}"
        f" BEGIN UPDATE episodes SET age_band = {band_new} WHERE id = new.id; END",
        "CREATE TRIGGER age_band_birth AFTER UPDATE OF birth_date ON patients"
        " WHEN old.birth_date IS NOT new.birth_date BEGIN"
        f" UPDATE episodes SET age_band = {band_e} WHERE patient_id = new.id"
        f" AND age_band IS NOT {band_e}; END",
    ]


AGE_BAND_TRIGGER_NAMES = ("age_band_ins", "age_band_upd", "age_band_birth")

_AGE_BAND_BACKFILL = (
    "UPDATE episodes SET age_band = b.band FROM (SELECT e.rowid AS rid, e.age_band AS old,"
    f" {_EPISODE_BAND.format(e='e')} AS band FROM episodes e) AS b"
    " WHERE b.rid = episodes.rowid AND b.old IS NOT b.band")


def backfill_age_bands(db: Database) -> int:
    """Set every episode's age band where it differs from its first visit and birth date (a
    bulk load, the upgrade), by the triggers' expression, computed once per episode; return
    how many changed. It parses two dates per episode: 5 s on 250,000 episodes on a loaded
    machine (docs/benchmarks.md)."""
    return int(db.execute(_AGE_BAND_BACKFILL).rowcount)


@MIGRATIONS(name="0011_recovery_and_age_band")
def m0011_recovery_and_age_band(db: Database) -> None:
    for statement in _split_sql(_V11):
        db.execute(statement)
    backfill_age_bands(db)
    for statement in age_band_triggers():
        db.execute(statement)
    _recovery_v11(db)


def _recovery_v11(db: Database) -> None:
    """Fill the recovery columns of the summary rows already there, by the rule of
    ``outcomes.measures.summary`` (which this layer may not import), reading each scale's
    direction and MCID from the instrument definitions (shipped, then the clinic's own, the
    same id winning, as ``outcomes.measures.catalog`` reads them)."""
    import json
    from datetime import date

    mcid = _mcid_rules()

    def day_of(text: str | None) -> date | None:
        try:
            return date.fromisoformat(text[:10]) if text else None
        except ValueError:
            return None

    wanted: dict[str, set[str]] = {}
    for episode_id, scale in db.execute("SELECT episode_id, scale FROM episode_outcomes"):
        if scale in mcid:
            wanted.setdefault(episode_id, set()).add(scale)
    first: dict[str, date] = {}
    for episode_id, visit in db.execute("SELECT id, first_visit_date FROM episodes"):
        found = day_of(visit)
        if episode_id in wanted and found is not None:
            first[episode_id] = found
    follow: dict[tuple[str, str], list[tuple[str, int, float]]] = {}
    for episode_id, timepoint, when, scores in db.execute(
            "SELECT episode_id, timepoint, date, scores FROM responses ORDER BY date, id"):
        if episode_id not in first:
            continue
        when_day = day_of(when)
        days = max(0, (when_day - first[episode_id]).days) if when_day else 0
        for scale, value in json.loads(scores).items():
            if value is not None and scale in wanted[episode_id]:
                follow.setdefault((episode_id, scale), []).append((timepoint, days,
                                                                    float(value)))
    updates = []
    for (episode_id, scale), scored in follow.items():
        higher_is_better, value, percent = mcid[scale]
        intake: float | None = None
        last: int | None = None
        result: tuple[int, int] | None = None
        for timepoint, days, score in scored:
            if intake is None:
                intake = score if timepoint == "intake" else None
                continue
            if timepoint == "intake":
                continue
            gain = score - intake if higher_is_better else intake - score
            if percent:
                reached = intake != 0 and gain > 0 and gain >= value * abs(intake) / 100 - 1e-9
            else:
                reached = gain >= value - 1e-9
            if reached:
                result = (days, 1)
                break
            last = days
        if result is None and last is not None:
            result = (last, 0)
        if result is not None:
            updates.append((*result, episode_id, scale))
    db.conn.executemany("UPDATE episode_outcomes SET recovery_days = ?, recovered = ?"
                        " WHERE episode_id = ? AND scale = ?", updates)


def _mcid_rules() -> dict[str, tuple[bool, float, bool]]:
    """Scale id -> (higher is better, MCID value, MCID in percent of intake), for the scales
    with a published MCID."""
    import tomllib
    from importlib import resources
    from pathlib import Path

    from outcomes.paths import user_surveys_dir

    try:
        packaged = Path(str(resources.files("outcomes") / "surveys"))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - a broken installation
        packaged = Path("/nonexistent")
    shipped = packaged if packaged.is_dir() else Path(__file__).resolve().parents[3] / "surveys"
    files: dict[str, Path] = {}
    for folder in (shipped, user_surveys_dir()):
        try:
            if folder.is_dir():
                files.update({p.stem: p for p in sorted(folder.glob("*.toml"))})
        except OSError:  # an unreadable config folder: its scales are left unfilled
            continue
    rules: dict[str, tuple[bool, float, bool]] = {}
    for path in files.values():
        for scale_id, scale in tomllib.loads(path.read_text("utf-8")).get("scales", {}).items():
            found = scale.get("mcid")
            if found is not None:
                rules[scale_id] = (scale["direction"] == "higher_is_better",
                                   float(found["value"]), found["unit"] == "percent")
    return rules


@MIGRATIONS(name="0012_funnel_rollup")
def m0012_funnel_rollup(db: Database) -> None:
    """The referral funnel by month and partner: the scorecard read every episode of the
    period for it (the largest single part of a year's scorecard on a big clinic)."""
    for statement in _split_sql(_V12):
        db.execute(statement)
    for statement in _FUNNEL_BACKFILL[2:]:
        db.execute(statement)
    for statement in _funnel_triggers():
        db.execute(statement)


# The alert queue's two reads of the episodes that may need something now (issue 14): the
# open ones (evaluated or in care: worsening scores, progress notes owed) and the ones first
# seen recently (letters owed). Both read the whole table at every start of the dashboard
# (~70 ms each on 250,000 episodes, whose rows carry the clinical text). Partial, so they hold
# only the rows they serve; network.owed spells its read as a union of index searches, as
# SQLite would otherwise walk the first-visit index over the whole history.
_V13 = """
CREATE INDEX episodes_in_care ON episodes(status) WHERE status IN ('evaluated', 'in_care');
CREATE INDEX episodes_first_visit ON episodes(first_visit_date)
    WHERE first_visit_date IS NOT NULL;
"""


@MIGRATIONS(name="0013_open_episode_indexes")
def m0013_open_episode_indexes(db: Database) -> None:
    for statement in _split_sql(_V13):
        db.execute(statement)


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


if len(MIGRATIONS._migrations) != SCHEMA_VERSION:  # pragma: no cover - caught by every test
    raise RuntimeError("dbinfo.SCHEMA_VERSION must equal the number of migrations")

__all__ = ["AGE_BAND_TABLES", "AGE_BAND_TRIGGER_NAMES", "APPLICATION_ID", "BULK",
           "CHANGE_LOG_TRIGGER_NAMES", "MIGRATIONS", "ROLLUP_BACKFILL", "SCHEMA_VERSION",
           "age_band_sql", "age_band_triggers", "backfill_age_bands", "change_log_in_bulk",
           "change_log_triggers"]
