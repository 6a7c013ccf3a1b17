"""``outcomes sync``: push this clinic's records to the group's PostgreSQL database.

Incremental: the core keeps a change log (``change_log``, migration 0005: one row per record,
its ``seq`` raised past all others on every insert, update or delete, by triggers). The group
database holds, per clinic, the last seq it received (``clinics.last_seq``). A sync reads the
changes above it in batches; for each batch it reads the changed records' current state from
one SQLite snapshot, then in one PostgreSQL transaction writes them (a record gone locally is
deleted there) and moves ``last_seq`` to the batch's highest seq.

Partners are not in the change log (a clinic has hundreds, not hundreds of thousands): each sync
first compares a digest of all of them with the one the group database holds for the clinic,
and when it differs sends them all in one transaction. The partners a batch's records point to
also travel with the batch. Evidence packets sent (communications of kind packet: id, partner and
sent day only, for the scorecard's packet effect) are few too and travel the same way.

One module because the sync is one protocol: the cursor, the batch reader, the PostgreSQL
writer and the checks that refuse an unsafe sync share the same invariants (the cursor moves
only with a committed batch), which are easier to keep when they are read together.

So each batch lands whole or not at all, a sync stopped anywhere (killed, network lost) resumes
at the first batch not committed, and sending a batch twice writes the same rows again (every
write is an upsert or a delete of the record's current state): the group database ends exact.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from outcomes.errors import OutcomesError, ValidationError
from outcomes.group import deid
from outcomes.group.pg import connect, ensure_schema, redact, scrub
from outcomes.store import audit, settings
from outcomes.store.database import transaction
from outcomes.store.schema import BULK

if TYPE_CHECKING:
    import psycopg

DEFAULT_BATCH = 2000

# Environment variables a sync takes its group secret from (the file is the safer: an
# environment can be read by other processes of the same user and ends up in shell history).
SECRET_FILE_ENV = "OUTCOMES_GROUP_SECRET_FILE"
SECRET_ENV = "OUTCOMES_GROUP_SECRET"


@dataclass(frozen=True)
class SyncResult:
    clinic_id: str
    target: str
    """The group database, without credentials."""
    batches: int
    records: int
    """Records written or deleted in the group database."""
    last_seq: int


@dataclass(frozen=True)
class _Batch:
    last_seq: int
    partners: list[int]
    episodes: list[str]
    outcomes: list[str]
    nps: list[int]

    @property
    def size(self) -> int:
        return len(self.partners) + len(self.episodes) + len(self.outcomes) + len(self.nps)


def read_secret(secret_file: str | os.PathLike[str] | None = None) -> bytes:
    """The group secret: from ``secret_file``, else the file named by
    $OUTCOMES_GROUP_SECRET_FILE, else $OUTCOMES_GROUP_SECRET."""
    path = secret_file or os.environ.get(SECRET_FILE_ENV)
    if path:
        try:
            with open(path, "rb") as fh:
                # Like ssh with a private key: a secret others can read protects nothing.
                if os.fstat(fh.fileno()).st_mode & 0o077:
                    raise ValidationError(
                        f"the group secret file {path} can be read by other accounts; make "
                        f"it yours only: chmod 600 {path}")
                return deid.check_secret(fh.read())
        except OSError as exc:
            raise ValidationError(f"cannot read the group secret file {path}: "
                                  f"{exc.strerror}.") from None
    value = os.environ.get(SECRET_ENV)
    if value:
        return deid.check_secret(value.encode())
    raise ValidationError(
        "no group secret: pass --secret-file FILE (the same file at every clinic of the group, "
        f"readable by you only) or set {SECRET_FILE_ENV}."
    )


def clinic_id_of(db: Database) -> str:
    clinic_id = str(settings.get(db, "clinic_id") or "").strip()
    if not clinic_id:
        raise ValidationError(
            "this clinic has no clinic_id yet; set one that is unique in the group, e.g. "
            "outcomes settings set clinic_id riverside"
        )
    return clinic_id


def sync(
    db: Database,
    url: str,
    *,
    secret: bytes,
    batch_size: int = DEFAULT_BATCH,
    before_commit: Callable[[int], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SyncResult:
    """Send every change since the last sync to the group database at ``url``.

    ``before_commit(batch_number)`` runs inside each batch's PostgreSQL transaction, just before
    its commit (the tests kill the process there). ``progress(done, total)`` counts changes."""
    if batch_size < 1:
        raise ValidationError("the batch size must be at least 1.")
    secret = deid.check_secret(secret)
    clinic_id = clinic_id_of(db)
    identified = bool(settings.get(db, "group_identified"))
    clinic_name = str(settings.get(db, "clinic_name"))
    target = redact(url)
    import psycopg

    conn = connect(url)
    try:
        ensure_schema(conn)
        _check_group(conn, secret, identified)
        cursor = _claim_clinic(conn, clinic_id, clinic_name)
        _staging(conn)
        partners_sent = _sync_partners(conn, db, clinic_id)
        partners_sent += _sync_packets(conn, db, clinic_id)
        local_max = db.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchone()[0]
        if cursor > local_max:
            raise OutcomesError(
                f"{target} holds changes of clinic {clinic_id!r} up to {cursor}, but this "
                f"database's change log ends at {local_max}: it is another clinic's database "
                "with the same clinic_id, or was restored from an older backup. Check "
                "clinic_id; to replace the group's copy of this clinic, run outcomes sync "
                "--full."
            )
        total = db.execute("SELECT count(*) FROM change_log WHERE seq > ?",
                           [cursor]).fetchone()[0]
        batches, records = 0, partners_sent

        def committing() -> None:
            if before_commit is not None:
                before_commit(batches + 1)

        while True:
            # A bulk load's mark stands for every change before it: one full pass covers them.
            mark = db.execute("SELECT seq FROM change_log WHERE entity = ? AND key = ?"
                              " AND seq > ?", [*BULK, cursor]).fetchone()
            if mark is not None:
                records += _full_pass(conn, db, clinic_id, secret, identified, batch_size,
                                      cursor, int(mark[0]), committing)
                batches += 1
                cursor = int(mark[0])
                continue
            batch, rows = _read_batch(db, cursor, batch_size)
            if batch is None:
                break
            with conn.transaction():
                _hold(conn, clinic_id, cursor)
                _apply(conn, clinic_id, secret, identified, batch, rows)
                conn.execute("UPDATE clinics SET last_seq = %s, name = %s, synced_at = now()"
                             " WHERE clinic_id = %s", [batch.last_seq, clinic_name, clinic_id])
                committing()
            batches += 1
            records += batch.size
            cursor = batch.last_seq
            if progress is not None:
                progress(records, total)
    except psycopg.Error as exc:
        raise OutcomesError(f"the sync to {target} failed: {scrub(str(exc), url)}") from None
    finally:
        _close(conn)
    if batches or partners_sent:
        with transaction(db):
            audit.log(db, "sync", "group", target=target, clinic_id=clinic_id, batches=batches,
                      records=records, last_seq=cursor)
    return SyncResult(clinic_id, target, batches, records, cursor)


def forget_clinic(db: Database, url: str, *, secret: bytes) -> int:
    """Delete this clinic's rows from the group database and reset its position, in one
    transaction, so that the next sync sends everything (``outcomes sync --full``, after a
    restore from an older backup). Returns the rows deleted."""
    secret = deid.check_secret(secret)
    clinic_id = clinic_id_of(db)
    import psycopg

    conn = connect(url)
    try:
        ensure_schema(conn)
        _check_group(conn, secret, bool(settings.get(db, "group_identified")))
        deleted = 0
        with conn.transaction():
            for table in ("episode_outcomes", "nps_responses", "episodes", "packets"):
                deleted += conn.execute(f"DELETE FROM {table} WHERE clinic_id = %s",
                                        [clinic_id]).rowcount
            mapped = [r[0] for r in conn.execute(
                "DELETE FROM clinic_partners WHERE clinic_id = %s RETURNING partner_id",
                [clinic_id])]
            _drop_orphan_partners(conn, mapped)
            conn.execute("UPDATE clinics SET last_seq = 0, partners_digest = NULL,"
                         " packets_digest = NULL WHERE clinic_id = %s", [clinic_id])
    except psycopg.Error as exc:
        raise OutcomesError(f"cannot reset {redact(url)}: {scrub(str(exc), url)}") from None
    finally:
        conn.close()
    with transaction(db):
        audit.log(db, "sync-reset", "group", target=redact(url), clinic_id=clinic_id,
                  deleted=deleted)
    return deleted


def _check_group(conn: psycopg.Connection[Any], secret: bytes, identified: bool) -> None:
    """The first clinic to sync fixes the group's secret (by its fingerprint) and its mode; a
    clinic with another secret or mode is refused before it writes anything."""
    wanted = {"secret_check": deid.secret_fingerprint(secret),
              "identified": "true" if identified else "false"}
    with conn.transaction():
        for key, value in wanted.items():
            conn.execute("INSERT INTO group_meta VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                         [key, value])
        held = dict(conn.execute("SELECT key, value FROM group_meta").fetchall())
    if held["secret_check"] != wanted["secret_check"]:
        raise ValidationError(
            "this group secret is not the one the group database was started with; every "
            "clinic of the group must use the same secret file, or patients will not match."
        )
    if held["identified"] != wanted["identified"]:
        mode = "identified" if held["identified"] == "true" else "de-identified"
        raise ValidationError(
            f"the group database holds {mode} data; set group_identified to "
            f"{str(held['identified'] == 'true').lower()} at this clinic to sync to it."
        )


def _close(conn: psycopg.Connection[Any]) -> None:
    """Release the clinic's sync lock, then close. The server would release it when the
    session ends, but it ends after the client has gone on (dropping the staging tables
    first): a sync started right after one that stopped could find the lock still held."""
    import psycopg

    with contextlib.suppress(psycopg.Error):
        conn.rollback()
        conn.execute("SELECT pg_advisory_unlock_all()")
        conn.commit()
    conn.close()


def _claim_clinic(conn: psycopg.Connection[Any], clinic_id: str, name: str) -> int:
    """Register the clinic and take its sync lock (held until the connection closes)."""
    with conn.transaction():
        conn.execute("INSERT INTO clinics (clinic_id, name) VALUES (%s, %s)"
                     " ON CONFLICT (clinic_id) DO NOTHING", [clinic_id, name])
    locked = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))",
                          ["outcomes sync " + clinic_id]).fetchone()
    conn.commit()
    if not locked or not locked[0]:
        raise OutcomesError(f"another sync of clinic {clinic_id!r} is running; try again when "
                            "it has finished.")
    row = conn.execute("SELECT last_seq FROM clinics WHERE clinic_id = %s",
                       [clinic_id]).fetchone()
    conn.commit()
    return int(row[0]) if row else 0


def _read_batch(db: Database, cursor: int, size: int) -> tuple[_Batch | None, dict[str, Any]]:
    """The next batch of changes and the current state of their records, from one snapshot.
    Stops before a bulk mark (entity 'all'), which the caller handles."""
    with _snapshot(db):
        changes = db.execute("SELECT entity, key, seq FROM change_log WHERE seq > ?"
                             " ORDER BY seq LIMIT ?", [cursor, size]).fetchall()
        marks = [i for i, (entity, _key, _seq) in enumerate(changes) if entity == BULK[0]]
        if marks:
            changes = changes[:marks[0]]
        if not changes:
            return None, {}
        keys: dict[str, list[str]] = {"episode": [], "outcomes": [], "nps": []}
        for entity, key, _seq in changes:
            keys[entity].append(key)
        rows = _read_records(db, keys["episode"], keys["outcomes"], [int(k) for k in keys["nps"]])
    batch = _Batch(
        last_seq=int(changes[-1][2]),
        partners=[r[0] for r in rows["partners"]],
        episodes=keys["episode"],
        outcomes=keys["outcomes"],
        nps=[int(k) for k in keys["nps"]],
    )
    return batch, rows


@contextlib.contextmanager
def _snapshot(db: Database) -> Iterator[None]:
    """One read snapshot of the clinic database (WAL: writers go on meanwhile)."""
    conn = db.conn
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        yield
    finally:
        if own:
            conn.execute("COMMIT")


def _read_records(db: Database, episode_ids: Sequence[str], outcome_ids: Sequence[str],
                  nps_ids: Sequence[int]) -> dict[str, Any]:
    """The current state of these records (absent ones are gone: deleted)."""
    # The funnel's fields: whether an appointment was set (not its date), a self-discharge,
    # and the reason of a referral not scheduled (only of those: other reasons stay).
    episodes = _select(db, "SELECT e.id, e.partner_id, e.referral_date, e.body_region,"
                       " e.status, e.first_visit_date, e.discharge_date, e.visits,"
                       " p.record_number, p.name, p.birth_date, p.sex,"
                       " e.scheduled_date IS NOT NULL,"
                       " coalesce(e.discharge_reason = 'self_discharged', 0),"
                       " CASE WHEN e.status = 'not_scheduled' THEN e.status_reason END"
                       " FROM episodes e JOIN patients p ON p.id = e.patient_id"
                       " WHERE e.id IN ({})", episode_ids)
    # The conditions go as the summary holds them (the condition group, not the diagnosis it
    # comes from); _apply lets only names of the conditions table out.
    outcomes = _select(db, "SELECT episode_id, scale, instrument, partner_id, referral_date,"
                       " intake_score, final_score, carried_forward, improvement, mcid_met,"
                       " condition_group, procedure, surgical, is_primary"
                       " FROM episode_outcomes WHERE episode_id IN ({})", outcome_ids)
    nps = _select(db, "SELECT id, episode_id, date, score FROM nps_responses"
                  " WHERE id IN ({})", nps_ids)
    # The partners a batch's records point to travel with it, so that every committed
    # batch leaves the group database whole (no episode of an unknown partner).
    partner_ids = {row[1] for row in episodes if row[1] is not None}
    partner_ids |= {row[3] for row in outcomes if row[3] is not None}
    partners = _select(db, "SELECT id, npi, name, kind FROM partners WHERE id IN ({})",
                       sorted(partner_ids))
    return {"partners": partners, "episodes": episodes, "outcomes": outcomes, "nps": nps}


def _full_pass(conn: psycopg.Connection[Any], db: Database, clinic_id: str, secret: bytes,
               identified: bool, size: int, cursor: int, mark: int,
               before_commit: Callable[[], None]) -> int:
    """After a bulk load (a mark instead of per-row changes): send every record in batches,
    then, in the last transaction, delete what the clinic no longer has and move the position
    past the mark. Interrupted, it starts over next time (every write is idempotent).
    Returns the records sent."""
    sent = 0
    for entity, sql in (
        ("episode", "SELECT id FROM episodes WHERE id > ? ORDER BY id LIMIT ?"),
        ("outcomes", "SELECT DISTINCT episode_id FROM episode_outcomes WHERE episode_id > ?"
                     " ORDER BY episode_id LIMIT ?"),
        ("nps", "SELECT id FROM nps_responses WHERE id > ? ORDER BY id LIMIT ?"),
    ):
        after: Any = "" if entity != "nps" else -1
        while True:
            with _snapshot(db):
                keys = [r[0] for r in db.execute(sql, [after, size])]
                if not keys:
                    break
                rows = _read_records(db, *(keys if entity == e else [] for e in
                                           ("episode", "outcomes", "nps")))
            batch = _Batch(cursor, [r[0] for r in rows["partners"]],
                           keys if entity == "episode" else [],
                           keys if entity == "outcomes" else [],
                           keys if entity == "nps" else [])
            with conn.transaction():
                _hold(conn, clinic_id, cursor)
                _apply(conn, clinic_id, secret, identified, batch, rows)
                before_commit()
            sent += batch.size
            after = keys[-1]
    with _snapshot(db):
        episodes = [deid.keyed_hash(secret, "episode", e) for (e,) in
                    db.execute("SELECT id FROM episodes")]
        outcomes = [deid.keyed_hash(secret, "episode", e) for (e,) in
                    db.execute("SELECT DISTINCT episode_id FROM episode_outcomes")]
        nps = [n for (n,) in db.execute("SELECT id FROM nps_responses")]
    with conn.transaction(), conn.cursor() as cur:
        _hold(conn, clinic_id, cursor)
        # The keys the clinic holds go to staging by COPY and the rest is deleted by an anti
        # join: "NOT key = ANY(array)" over a quarter of a million keys took minutes.
        _copy(cur, "stage_keep", ("what", "episode_key", "local_id"), itertools.chain(
            (("outcomes", e, None) for e in outcomes), (("nps", None, n) for n in nps),
            (("episode", e, None) for e in episodes)))
        cur.execute("ANALYZE stage_keep")
        for table, column, what in (("episode_outcomes", "episode_key", "outcomes"),
                                    ("nps_responses", "local_id", "nps"),
                                    ("episodes", "episode_key", "episode")):
            cur.execute(f"DELETE FROM {table} t WHERE t.clinic_id = %s AND NOT EXISTS"
                        f" (SELECT 1 FROM stage_keep k WHERE k.what = %s"
                        f" AND k.{column} = t.{column})", [clinic_id, what])
        cur.execute("TRUNCATE stage_keep")
        conn.execute("UPDATE clinics SET last_seq = %s, synced_at = now()"
                     " WHERE clinic_id = %s", [mark, clinic_id])
        before_commit()
    return sent


def _hold(conn: psycopg.Connection[Any], clinic_id: str, cursor: int) -> None:
    """Lock this clinic's row and check that no other sync moved its position."""
    held = conn.execute("SELECT last_seq FROM clinics WHERE clinic_id = %s FOR UPDATE",
                        [clinic_id]).fetchone()
    if held is None or held[0] != cursor:
        raise OutcomesError(f"another sync of clinic {clinic_id!r} moved the group database "
                            "on; run outcomes sync again.")


def _select(db: Database, sql: str, keys: Sequence[Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(keys), 900):
        chunk = list(keys[start:start + 900])
        rows += db.execute(sql.format(", ".join("?" * len(chunk))), chunk).fetchall()
    return rows


def _match_key(clinic_id: str, local_id: int, npi: str | None) -> str:
    return f"npi:{npi}" if npi else f"clinic:{clinic_id}:{local_id}"


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


_EPISODE_COLUMNS = ("clinic_id", "episode_key", "partner_local_id", "referral_date",
                    "body_region", "status", "first_visit_date", "discharge_date", "visits",
                    "patient_key", "age_band", "sex", "record_number", "patient_name",
                    "birth_date", "scheduled", "self_discharged", "not_scheduled_reason")
_OUTCOME_COLUMNS = ("clinic_id", "episode_key", "scale", "instrument", "partner_local_id",
                    "referral_date", "intake_score", "final_score", "carried_forward",
                    "improvement", "mcid_met", "condition_group", "procedure", "surgical",
                    "is_primary")
_NPS_COLUMNS = ("clinic_id", "local_id", "episode_key", "date", "score")

# A batch is COPYed into these session-local tables, then applied with one INSERT ... SELECT
# per table: a statement per record (the upserts before) was some 20x slower than COPY. ON
# COMMIT DELETE ROWS empties them with every batch's commit; a rolled-back batch leaves nothing
# either (its rows go with the transaction).
_STAGING = [
    "CREATE TEMP TABLE IF NOT EXISTS stage_partners (ord integer NOT NULL, match_key text"
    " NOT NULL, local_id bigint NOT NULL, npi text, name text NOT NULL, kind text NOT NULL)"
    " ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS stage_episodes"
    " (LIKE episodes INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS stage_nps"
    " (LIKE nps_responses INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
    # What a full pass keeps: every record the clinic holds (the rest is deleted).
    "CREATE TEMP TABLE IF NOT EXISTS stage_keep (what text NOT NULL, episode_key text,"
    " local_id bigint) ON COMMIT DELETE ROWS",
    # Indexed: a clinic new to the group's statistics is estimated at a handful of rows, and
    # the planner then probes the keys once per row (a scan each took minutes).
    "CREATE INDEX IF NOT EXISTS stage_keep_episode ON stage_keep (what, episode_key)",
    "CREATE INDEX IF NOT EXISTS stage_keep_local ON stage_keep (what, local_id)",
]


def _staging(conn: psycopg.Connection[Any]) -> None:
    """Create this connection's staging tables (once per sync, in a transaction of its own)."""
    with conn.transaction():
        for statement in _STAGING:
            conn.execute(statement)


def _upsert_sql(table: str, stage: str, columns: Sequence[str], key: Sequence[str]) -> str:
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage}"
            f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")


def _copy(cur: psycopg.Cursor[Any], table: str, columns: Sequence[str],
          rows: Iterable[Sequence[Any]]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _apply(conn: psycopg.Connection[Any], clinic_id: str, secret: bytes, identified: bool,
           batch: _Batch, rows: dict[str, Any]) -> None:
    """Write one batch (inside the caller's transaction): its partners, then each table's rows
    COPYed into staging and upserted in one statement, then the deletions."""
    keys: dict[str, str] = {}

    def ekey(episode_id: str) -> str:
        # An episode's outcome rows share its key: hashed once per batch.
        found = keys.get(episode_id)
        if found is None:
            found = keys[episode_id] = deid.keyed_hash(secret, "episode", episode_id)
        return found

    def episodes() -> Iterator[tuple[Any, ...]]:
        for (eid, pid, referral, region, status, first, discharge, visits, mrn, name, birth,
             sex, scheduled, self_discharged, reason) in rows["episodes"]:
            referral_day = _day(referral)
            birth_day = _day(birth)
            assert referral_day is not None
            yield (
                clinic_id, ekey(eid), pid, referral_day, region, status, _day(first),
                _day(discharge), visits, deid.keyed_hash(secret, "patient", mrn),
                deid.age_band(birth_day, referral_day), deid.sex_code(sex),
                mrn if identified else None, name if identified else None,
                birth_day if identified else None, bool(scheduled), bool(self_discharged),
                reason if identified else deid.reason_code(reason),
            )

    def outcomes() -> Iterator[tuple[Any, ...]]:
        for (eid, scale, instrument, pid, referral, intake, final, carried, improvement, met,
             group, procedure, surgical, primary) in rows["outcomes"]:
            yield (clinic_id, ekey(eid), scale, instrument, pid, _day(referral), intake, final,
                   carried, improvement, met, deid.condition_code(group),
                   deid.procedure_code(procedure), None if surgical is None else bool(surgical),
                   bool(primary))

    with conn.cursor() as cur:
        _upsert_partners(cur, clinic_id, rows["partners"])

        if rows["episodes"]:
            _copy(cur, "stage_episodes", _EPISODE_COLUMNS, episodes())
            cur.execute(_upsert_sql("episodes", "stage_episodes", _EPISODE_COLUMNS,
                                    ("clinic_id", "episode_key")))
        _delete_missing(cur, "episodes", "episode_key", clinic_id,
                        [ekey(e) for e in set(batch.episodes) - {r[0] for r in rows["episodes"]}])

        # An episode's outcome rows are replaced together (a scale that went away goes too):
        # once they are deleted nothing can conflict, so they are COPYed straight in.
        if batch.outcomes:
            # By index, key by key, whatever the planner's statistics say: they lag far behind
            # while a clinic's rows pour in (1 row estimated, 35,000 there), and a join planned
            # on them looped over the whole clinic once per key (30 s a batch) or sorted it all
            # (0.8 s). The keys drive the probes (OFFSET 0 keeps the planner from turning the
            # join around), and the rows found are deleted by their ctid.
            cur.execute(
                "DELETE FROM episode_outcomes WHERE ctid = ANY(ARRAY("
                " SELECT x.ctid FROM unnest(%s::text[]) AS k(key) CROSS JOIN LATERAL"
                " (SELECT o.ctid FROM episode_outcomes o WHERE o.clinic_id = %s"
                "  AND o.episode_key = k.key OFFSET 0) x))",
                [[ekey(e) for e in batch.outcomes], clinic_id])
        if rows["outcomes"]:
            _copy(cur, "episode_outcomes", _OUTCOME_COLUMNS, outcomes())

        if rows["nps"]:
            _copy(cur, "stage_nps", _NPS_COLUMNS,
                  ((clinic_id, nid, ekey(eid) if eid is not None else None, _day(day), score)
                   for nid, eid, day, score in rows["nps"]))
            cur.execute(_upsert_sql("nps_responses", "stage_nps", _NPS_COLUMNS,
                                    ("clinic_id", "local_id")))
        _delete_missing(cur, "nps_responses", "local_id", clinic_id,
                        sorted(set(batch.nps) - {r[0] for r in rows["nps"]}))
        # Staging is emptied at commit anyway; emptied here too so that _apply does not
        # depend on being the only write of its transaction.
        cur.execute("TRUNCATE stage_episodes, stage_nps")


def _upsert_partners(cur: psycopg.Cursor[Any], clinic_id: str,
                     rows: Sequence[tuple[Any, ...]]) -> None:
    """Write local partners (id, npi, name, kind) and their mapping to group partners."""
    if not rows:
        return
    # Staged in the order given; of two local partners with one NPI the later wins, as when
    # they were written one by one.
    _copy(cur, "stage_partners", ("ord", "match_key", "local_id", "npi", "name", "kind"),
          ((i, _match_key(clinic_id, pid, npi), pid, npi, name, kind)
           for i, (pid, npi, name, kind) in enumerate(rows)))
    # The group partners these local ids pointed to: one left without any clinic (the NPI
    # changed) is removed below.
    before = [r[0] for r in cur.execute(
        "SELECT DISTINCT partner_id FROM clinic_partners WHERE clinic_id = %s"
        " AND local_id IN (SELECT local_id FROM stage_partners)", [clinic_id])]
    # In match-key order: two clinics syncing at once lock shared partners in the same order,
    # so they wait for each other instead of deadlocking.
    cur.execute(
        "INSERT INTO partners (match_key, npi, name, kind)"
        " SELECT match_key, npi, name, kind FROM"
        " (SELECT DISTINCT ON (match_key) match_key, npi, name, kind FROM stage_partners"
        "  ORDER BY match_key, ord DESC) s ORDER BY match_key"
        " ON CONFLICT (match_key) DO UPDATE SET npi = excluded.npi, name = excluded.name,"
        " kind = excluded.kind"
        # Every batch sends the partners its records point to, nearly always unchanged: an
        # update that changes nothing would still write a new row version each time.
        " WHERE (partners.npi, partners.name, partners.kind)"
        " IS DISTINCT FROM (excluded.npi, excluded.name, excluded.kind)")
    cur.execute(
        "INSERT INTO clinic_partners (clinic_id, local_id, partner_id)"
        " SELECT %s, s.local_id, p.id FROM stage_partners s JOIN partners p USING (match_key)"
        " ORDER BY s.local_id"
        " ON CONFLICT (clinic_id, local_id) DO UPDATE SET partner_id = excluded.partner_id"
        " WHERE clinic_partners.partner_id <> excluded.partner_id", [clinic_id])
    cur.execute("TRUNCATE stage_partners")
    if before:
        _drop_orphan_partners(cur.connection, before)


def _sync_partners(conn: psycopg.Connection[Any], db: Database, clinic_id: str) -> int:
    """Send all of the clinic's partners when they changed since the last sync (by digest);
    return how many were sent."""
    rows = db.execute("SELECT id, npi, name, kind FROM partners ORDER BY id").fetchall()
    digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()
    with conn.transaction():
        held = conn.execute("SELECT partners_digest FROM clinics WHERE clinic_id = %s"
                            " FOR UPDATE", [clinic_id]).fetchone()
        if held is not None and held[0] == digest:
            return 0
        with conn.cursor() as cur:
            _upsert_partners(cur, clinic_id, rows)
            gone = [r[0] for r in cur.execute(
                "DELETE FROM clinic_partners WHERE clinic_id = %s AND NOT local_id = ANY(%s)"
                " RETURNING partner_id", [clinic_id, [r[0] for r in rows]])]
            if gone:
                _drop_orphan_partners(conn, gone)
            cur.execute("UPDATE clinics SET partners_digest = %s WHERE clinic_id = %s",
                        [digest, clinic_id])
    return len(rows)


def _sync_packets(conn: psycopg.Connection[Any], db: Database, clinic_id: str) -> int:
    """Send all of the clinic's evidence packets sent to partners (id, partner, the day it was
    sent: nothing else of the communication; a packet only made has not reached anyone, as in
    ``network.packet_effect``) when they changed since the last sync (by digest), replacing the
    group's copy in one transaction; return how many were sent. Run after the partners, which
    they point to."""
    rows = [(cid, pid, _day(day)) for cid, pid, day in db.execute(
        "SELECT id, partner_id, coalesce(sent_date, date) FROM communications"
        " WHERE kind = 'packet' AND status = 'sent' ORDER BY id")]
    digest = hashlib.sha256(json.dumps([(c, p, str(d)) for c, p, d in rows]).encode()
                            ).hexdigest()
    with conn.transaction():
        held = conn.execute("SELECT packets_digest FROM clinics WHERE clinic_id = %s"
                            " FOR UPDATE", [clinic_id]).fetchone()
        if held is not None and held[0] == digest:
            return 0
        with conn.cursor() as cur:
            cur.execute("DELETE FROM packets WHERE clinic_id = %s", [clinic_id])
            cur.executemany("INSERT INTO packets (clinic_id, local_id, partner_local_id, date)"
                            " VALUES (%s, %s, %s, %s)", [(clinic_id, *r) for r in rows])
            cur.execute("UPDATE clinics SET packets_digest = %s WHERE clinic_id = %s",
                        [digest, clinic_id])
    return len(rows)


def _delete_missing(cur: psycopg.Cursor[Any], table: str, column: str, clinic_id: str,
                    keys: Iterable[Any]) -> None:
    keys = list(keys)
    if keys:
        cur.execute(f"DELETE FROM {table} WHERE clinic_id = %s AND {column} = ANY(%s)",
                    [clinic_id, keys])


def _drop_orphan_partners(conn: psycopg.Connection[Any], ids: list[int]) -> None:
    conn.execute("DELETE FROM partners p WHERE p.id = ANY(%s) AND NOT EXISTS"
                 " (SELECT 1 FROM clinic_partners c WHERE c.partner_id = p.id)", [ids])


__all__ = ["DEFAULT_BATCH", "SyncResult", "clinic_id_of", "forget_clinic", "read_secret", "sync"]
