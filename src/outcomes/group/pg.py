"""The group database on PostgreSQL: connecting without leaking credentials, and its schema.

Credentials come from the URL or from libpq's usual sources (``PGPASSFILE``, ``~/.pgpass``,
``PGPASSWORD``); they are never printed, logged or written to the audit log: every message and
record names the server by :func:`redact`.

Schema (one database for the whole group; every row carries its clinic):
- ``clinics``: one row per clinic that ever synced, with ``last_seq``, the clinic's change-log
  position this database holds (moved in the same transaction as the rows it covers, which is
  what makes a sync resumable and a repeated one harmless).
- ``partners``: the group's referring partners, one per NPI (``match_key`` 'npi:<npi>'), or one
  per clinic and local id for partners without an NPI ('clinic:<clinic>:<id>').
- ``clinic_partners``: each clinic's local partner id -> group partner. Partners are few and
  not in the change log: a sync sends them all when the digest of the clinic's partners
  (``clinics.partners_digest``) changed.
- ``episodes``, ``episode_outcomes``, ``nps_responses``: the clinic's records as the scorecard
  reads them, with patients de-identified (outcomes.group.deid).
- ``packets``: the evidence packets each clinic logged (partner and day only), for the
  scorecard's packet effect. Few, like partners: sent all again when their digest
  (``clinics.packets_digest``) changed.

Version 2 added the funnel's fields to ``episodes`` (``scheduled``, ``self_discharged``,
``not_scheduled_reason``) and ``packets``; a version 1 database is upgraded in place and every
clinic's position reset, so that each clinic's next sync sends its records again with them.
Version 3 added the conditions to ``episode_outcomes`` (``condition_group``, ``procedure``,
``surgical``, ``is_primary``: coded values only, see outcomes.group.deid) for the scorecard's
``primary``, ``by_condition`` and ``by_procedure``; an older database is upgraded the same way
(columns added, every clinic's position reset, so the next sync of each clinic fills them).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from outcomes.errors import OutcomesError, ValidationError

if TYPE_CHECKING:
    import psycopg

# The version of the schema below; a database made by a newer outcomes is refused.
GROUP_SCHEMA_VERSION = 3

# Serialises schema creation when several clinics sync into a new database at once.
_SCHEMA_LOCK = 0x4F555443

SCHEMA = """
CREATE TABLE IF NOT EXISTS group_meta (
    key text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS clinics (
    clinic_id text PRIMARY KEY,
    name text NOT NULL,
    last_seq bigint NOT NULL DEFAULT 0,
    partners_digest text,
    synced_at timestamptz
);
ALTER TABLE clinics ADD COLUMN IF NOT EXISTS packets_digest text;
CREATE TABLE IF NOT EXISTS partners (
    id bigserial PRIMARY KEY,
    match_key text NOT NULL UNIQUE,
    npi text,
    name text NOT NULL,
    kind text NOT NULL
);
CREATE TABLE IF NOT EXISTS clinic_partners (
    clinic_id text NOT NULL REFERENCES clinics,
    local_id bigint NOT NULL,
    partner_id bigint NOT NULL REFERENCES partners,
    PRIMARY KEY (clinic_id, local_id)
);
CREATE INDEX IF NOT EXISTS clinic_partners_partner ON clinic_partners (partner_id);
CREATE TABLE IF NOT EXISTS episodes (
    clinic_id text NOT NULL REFERENCES clinics,
    episode_key text NOT NULL,
    partner_local_id bigint,
    referral_date date NOT NULL,
    body_region text,
    status text NOT NULL,
    first_visit_date date,
    discharge_date date,
    visits integer,
    patient_key text NOT NULL,
    age_band text,
    sex text,
    -- Identified mode only (setting group_identified), else NULL.
    record_number text,
    patient_name text,
    birth_date date,
    PRIMARY KEY (clinic_id, episode_key)
);
-- The funnel (version 2): whether an appointment date was set (not the date), whether a
-- discharge was a self-discharge, and why a referral was not scheduled (deid.reason_code).
ALTER TABLE episodes ADD COLUMN IF NOT EXISTS scheduled boolean NOT NULL DEFAULT false;
ALTER TABLE episodes ADD COLUMN IF NOT EXISTS self_discharged boolean NOT NULL DEFAULT false;
ALTER TABLE episodes ADD COLUMN IF NOT EXISTS not_scheduled_reason text;
CREATE INDEX IF NOT EXISTS episodes_referral_date ON episodes (referral_date);
-- The packet effect counts a partner's referrals in the 90 days around each packet.
CREATE INDEX IF NOT EXISTS episodes_partner_date
    ON episodes (clinic_id, partner_local_id, referral_date);
CREATE TABLE IF NOT EXISTS episode_outcomes (
    clinic_id text NOT NULL,
    episode_key text NOT NULL,
    scale text NOT NULL,
    instrument text NOT NULL,
    partner_local_id bigint,
    referral_date date NOT NULL,
    intake_score double precision,
    final_score double precision,
    carried_forward integer NOT NULL,
    improvement double precision,
    mcid_met integer,
    PRIMARY KEY (clinic_id, episode_key, scale)
);
CREATE INDEX IF NOT EXISTS episode_outcomes_referral_date ON episode_outcomes (referral_date);
-- Conditions (version 3): the episode's condition group and procedure as names of the
-- conditions table, whether it followed surgery (NULL: unknown), and whether this row is the
-- episode's primary measure (each episode counts once in the pooled and by-condition figures).
ALTER TABLE episode_outcomes ADD COLUMN IF NOT EXISTS condition_group text;
ALTER TABLE episode_outcomes ADD COLUMN IF NOT EXISTS procedure text;
ALTER TABLE episode_outcomes ADD COLUMN IF NOT EXISTS surgical boolean;
ALTER TABLE episode_outcomes ADD COLUMN IF NOT EXISTS is_primary boolean NOT NULL DEFAULT false;
CREATE TABLE IF NOT EXISTS nps_responses (
    clinic_id text NOT NULL,
    local_id bigint NOT NULL,
    episode_key text,
    date date NOT NULL,
    score integer NOT NULL CHECK (score BETWEEN 0 AND 10),
    PRIMARY KEY (clinic_id, local_id)
);
CREATE INDEX IF NOT EXISTS nps_responses_date ON nps_responses (date);
CREATE TABLE IF NOT EXISTS packets (
    clinic_id text NOT NULL REFERENCES clinics,
    local_id bigint NOT NULL,
    partner_local_id bigint NOT NULL,
    date date NOT NULL,
    PRIMARY KEY (clinic_id, local_id)
);
"""


def redact(url: str) -> str:
    """The URL without its password (and without query parameters, which may hold one)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the group database"
    if parts.scheme not in ("postgresql", "postgres"):
        return "the group database"
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if _port(parts) else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def _port(parts: Any) -> int | None:
    try:
        return int(parts.port) if parts.port else None
    except ValueError:
        return None


def check_url(url: str) -> None:
    if not re.match(r"^postgres(ql)?://", url):
        raise ValidationError(
            "the group database must be a PostgreSQL URL such as "
            "postgresql://user@host/dbname (the password from PGPASSFILE or ~/.pgpass)."
        )


def connect(url: str) -> psycopg.Connection[Any]:
    """A connection to the group database; errors name the server without credentials."""
    check_url(url)
    try:
        import psycopg
    except ImportError as exc:
        raise OutcomesError(
            "the group edition needs the PostgreSQL driver psycopg 3: pip install "
            "'psycopg[binary]'."
        ) from exc
    try:
        return psycopg.connect(url, connect_timeout=30, application_name="outcomes")
    except psycopg.Error as exc:
        raise OutcomesError(
            f"cannot connect to {redact(url)}: {scrub(str(exc), url)}"
        ) from None


def scrub(message: str, url: str) -> str:
    """``message`` with the URL's password removed, wherever a driver may have echoed it."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    message = message.replace(url, redact(url))
    if password:
        message = message.replace(password, "***")
    return " ".join(message.split())


def ensure_schema(conn: psycopg.Connection[Any]) -> None:
    """Create the group schema if missing; refuse a database made by a newer outcomes."""
    # A current database is left alone: ALTER TABLE takes its table's strongest lock even when
    # the column is there, and waits out an autovacuum of it (a second, against the 0.04 s of a
    # sync with nothing new).
    with conn.transaction():
        found = conn.execute("SELECT to_regclass('group_meta') IS NOT NULL").fetchone()
        row = conn.execute("SELECT value FROM group_meta WHERE key = 'schema_version'"
                           ).fetchone() if found and found[0] else None
    if row is not None and int(row[0]) == GROUP_SCHEMA_VERSION:
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK])
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO group_meta VALUES ('schema_version', %s)"
                     " ON CONFLICT (key) DO NOTHING", [str(GROUP_SCHEMA_VERSION)])
        row = conn.execute("SELECT value FROM group_meta WHERE key = 'schema_version'"
                           ).fetchone()
        version = int(row[0]) if row else 0
        if version < GROUP_SCHEMA_VERSION:
            # Rows synced before lack the fields this version added (version 2: the funnel;
            # 3: the conditions): every clinic sends all again.
            conn.execute("UPDATE clinics SET last_seq = 0, partners_digest = NULL,"
                         " packets_digest = NULL")
            conn.execute("UPDATE group_meta SET value = %s WHERE key = 'schema_version'",
                         [str(GROUP_SCHEMA_VERSION)])
            version = GROUP_SCHEMA_VERSION
    if version > GROUP_SCHEMA_VERSION:
        raise OutcomesError(
            f"the group database has schema version {version}; this outcomes knows version "
            f"{GROUP_SCHEMA_VERSION}: upgrade outcomes on this machine first."
        )


__all__ = ["GROUP_SCHEMA_VERSION", "check_url", "connect", "ensure_schema", "redact", "scrub"]
