"""Opening the database: checks that the file is ours, applies migrations, sets safe pragmas.

Every part of the app opens the database through :func:`open_db`. It refuses, without touching a
byte, a file that is not SQLite, a database of another application, or one whose schema is newer
than this version of the app knows.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from outcomes.errors import DatabaseError
from outcomes.store.dbinfo import APPLICATION_ID, SCHEMA_VERSION

if TYPE_CHECKING:  # sqlite-utils is imported when a connection is made, not at start-up
    from sqlite_utils import Database

SQLITE_MAGIC = b"SQLite format 3\x00"
# A write waits this long for another writer (the dashboard, a CLI import) before failing.
BUSY_TIMEOUT_MS = 30_000


def _inspect_existing(path: Path) -> tuple[int, int, bool]:
    """Read (application_id, user_version, has_tables) without writing anything to the file."""
    with path.open("rb") as fh:
        header = fh.read(100)
    if len(header) == 0:
        return (0, 0, False)
    if not header.startswith(SQLITE_MAGIC):
        raise DatabaseError(
            f"{path} is not an outcomes database (it is not an SQLite file); "
            "pass --db with the path of your outcomes database, or a new file name to create one."
        )
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            ).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(
            f"{path} cannot be read as a database ({exc}); it may be damaged."
        ) from exc
    return (app_id, version, tables > 0)


def needs_upgrade(path: Path) -> bool:
    """True when opening ``path`` would write to it first (a new file, an older schema, or no
    planner statistics yet). Call after :func:`check_file`."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    _app_id, version, _tables = _inspect_existing(path)
    if version < SCHEMA_VERSION:
        return True
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0] == 0
    finally:
        conn.close()


def check_file(path: Path) -> None:
    """Raise DatabaseError if ``path`` exists and is not an outcomes database this app can open."""
    if not path.exists():
        return
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory; --db needs a file path.")
    app_id, version, has_tables = _inspect_existing(path)
    if has_tables and app_id != APPLICATION_ID:
        raise DatabaseError(
            f"{path} is a database of another application, not an outcomes database; "
            "it was left untouched. Pass --db with another path."
        )
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path} has schema version {version}, but this version of outcomes only knows "
            f"version {SCHEMA_VERSION}; upgrade outcomes to open it."
        )


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (the database holds health information)."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise DatabaseError(f"Cannot create the folder {parent}: {exc.strerror}.") from exc
    if not os.access(parent, os.W_OK):
        raise DatabaseError(f"Cannot write to the folder {parent}; choose another --db path.")
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise DatabaseError(f"Cannot create {path}: {exc.strerror}.") from exc
    os.close(fd)


def connect(path: Path) -> Database:
    """A connection with the pragmas every part of the app relies on."""
    # isolation_level=None: no implicit transactions; every write goes through transaction().
    # check_same_thread=False: the dashboard reads in worker threads.
    from sqlite_utils import Database

    conn = sqlite3.connect(
        str(path),
        timeout=BUSY_TIMEOUT_MS / 1000,
        check_same_thread=False,
        isolation_level=None,
    )
    db = Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def open_db(path: Path | str, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the outcomes database at ``path``; bring its schema up to date."""
    path = Path(path).expanduser()
    check_file(path)
    is_new = not path.exists() or path.stat().st_size == 0
    if is_new:
        _create_private_file(path)
    elif not os.access(path, os.W_OK):
        raise DatabaseError(f"{path} is read-only; the app needs to write to it.")
    try:
        db = connect(path)
        if is_new:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        # WAL lets the dashboard read while a CLI import writes.
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        if migrate:
            apply_migrations(db)
            if not db["sqlite_stat1"].exists():
                refresh_statistics(db)
    except sqlite3.OperationalError as exc:
        raise DatabaseError(f"Cannot open {path}: {exc}.") from exc
    return db


def refresh_statistics(db: Database) -> None:
    """Let SQLite's planner know the shape of the data (ANALYZE on a sample; a few ms).

    Without statistics the planner reads a year of episodes through the date index instead of
    the covering (partner, date) index: ten times slower on a large clinic."""
    db.execute("PRAGMA analysis_limit = 1000")
    db.execute("ANALYZE")


def schema_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def apply_migrations(db: Database) -> int:
    """Apply pending migrations in one transaction; return how many ran."""
    from outcomes.store.schema import MIGRATIONS

    if schema_version(db) >= SCHEMA_VERSION:
        return 0
    # Under the write lock, so two processes opening a new file at once never both apply the
    # same migration; each migration becomes a savepoint inside this transaction.
    with transaction(db):
        pending = MIGRATIONS.pending(db)
        MIGRATIONS.apply(db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return len(pending)


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One all-or-nothing write. Takes the write lock at the start (BEGIN IMMEDIATE), so a
    concurrent writer waits for the busy timeout instead of failing halfway with 'locked'.
    Nested use becomes a savepoint."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
