"""Opening the database: checks that the file is ours, applies migrations, sets safe pragmas.

Every part of the app opens the database through :func:`open_db`. It refuses, without touching a
byte, anything that is not a regular file (a FIFO or a device would block every read), a file
that is not SQLite, a database of another application, or one whose schema is newer than this
version of the app knows. At every open it makes the file and its -wal and -shm companions
owner-only, and checks integrity where that is cheap (see :data:`QUICK_CHECK_MAX_BYTES`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from outcomes.errors import DatabaseError
from outcomes.store.dbinfo import APPLICATION_ID, SCHEMA_VERSION

if TYPE_CHECKING:  # sqlite-utils is imported when a connection is made, not at start-up
    from sqlite_utils import Database

# A write waits this long for another writer (the dashboard, a CLI import) before failing.
# OUTCOMES_BUSY_TIMEOUT_MS overrides it (the lock tests use a short wait).
BUSY_TIMEOUT_MS = 30_000
# PRAGMA quick_check reads every page: 1.5-7 ms per MB on the shared 2-core machines (8 ms for
# the 2.4 MB demo clinic, 70-85 ms for a 50 MB file of one indexed table, 2.3-2.7 s for the
# 355 MB eight-year benchmark clinic, whose many indexes cost more per MB). Up to 16 MiB (years
# of a small clinic) it costs at most about 0.1 s, so it runs at every open; above, it would
# tax every command, so it runs before a backup, before a restore and after a crash instead.
QUICK_CHECK_MAX_BYTES = 16 * 1024 * 1024
COMPANIONS = ("-wal", "-shm")

log = logging.getLogger("outcomes.store")
_warned: set[str] = set()

_FILE_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class Queryable(Protocol):
    """What the read-only reports need: ``execute``. A plain ``sqlite3`` connection (the
    dashboard's readers) and a sqlite-utils ``Database`` both are one."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...


class DatabaseBusy(DatabaseError):
    """Another program held the write lock for longer than the busy timeout."""


class DamagedDatabase(DatabaseError):
    """The file fails SQLite's integrity check: nothing may be written to it."""


def busy_timeout_ms() -> int:
    value = os.environ.get("OUTCOMES_BUSY_TIMEOUT_MS", "")
    return int(value) if value.isdigit() else BUSY_TIMEOUT_MS


def busy_message(path: Path | str | None = None) -> str:
    where = f"The database {path}" if path else "The database"
    seconds = busy_timeout_ms() / 1000
    wait = f"{seconds:g} second" + ("" if seconds == 1 else "s")
    return (f"{where} is in use by another program (the dashboard saving, or an import or "
            f"backup running) that kept it locked for over {wait}; nothing was "
            "written. Wait for that program to finish (or close the dashboard), then run the "
            "command again.")


def damaged_message(path: Path | str | None, detail: str) -> str:
    name = str(path) if path else "the database"
    return (f"{name} is damaged ({detail}); nothing was written to it. To recover, restore "
            f"your latest backup (outcomes --db {name} restore BACKUP.db), or salvage what is "
            f"readable with: sqlite3 {name} .recover | sqlite3 recovered.db, then use "
            "--db recovered.db.")


class FileState(NamedTuple):
    """An existing file's header and schema as read by :func:`check_file`."""

    application_id: int
    user_version: int
    has_tables: bool
    analysed: bool
    """Planner statistics (``sqlite_stat1``) are on file."""


def _inspect_existing(path: Path) -> FileState:
    """The file's header and schema facts, read without writing anything to the file.

    Read through SQLite only, never with a plain open(): closing any descriptor of a file drops
    every POSIX lock this process holds on it, so a raw read of the header while another
    connection of this process (the dashboard's) is in a transaction would silently release its
    locks, and another program could then delete the -wal and -shm under it. One connection
    and one statement: each new connection parses the whole schema (1.5 ms on ours) at its
    first query."""
    st = os.stat(path)
    _require_regular(path, st)
    if st.st_size == 0:
        return FileState(0, 0, False, False)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            app_id, version, tables, analysed = conn.execute(
                "SELECT (SELECT application_id FROM pragma_application_id),"
                " (SELECT user_version FROM pragma_user_version),"
                " (SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'),"
                " (SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1')"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB:
            raise DatabaseError(
                f"{path} is not an outcomes database (it is not an SQLite file); pass --db with "
                "the path of your outcomes database, or a new file name to create one."
            ) from exc
        raise DatabaseError(
            f"{path} cannot be read as a database ({exc}); it may be damaged."
        ) from exc
    return FileState(app_id, version, tables > 0, analysed > 0)


def needs_upgrade(state: FileState | None) -> bool:
    """True when opening the file :func:`check_file` found as ``state`` (None: no file yet)
    would write to it first: a new or empty file, an older schema, or no planner statistics
    yet."""
    return state is None or state.user_version < SCHEMA_VERSION or not state.analysed


def _require_regular(path: Path, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise DatabaseError(f"{path} is a directory; --db needs a file path.")
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(st.st_mode)), "not a file")
        raise DatabaseError(f"{path} is {kind}, not a regular file; --db needs the path of a "
                            "database file (or a new file name to create one).")


def check_file(path: Path) -> FileState | None:
    """Raise DatabaseError if ``path`` exists and is not an outcomes database this app can open;
    else what was read of it (None when there is no file yet)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None  # a new file; creating it says what is wrong with the folder, if anything
    except OSError as exc:
        raise DatabaseError(f"Cannot read {path}: {exc.strerror}.") from exc
    _require_regular(path, st)
    state = _inspect_existing(path)
    if state.has_tables and state.application_id != APPLICATION_ID:
        raise DatabaseError(
            f"{path} is a database of another application, not an outcomes database; "
            "it was left untouched. Pass --db with another path."
        )
    if (version := state.user_version) > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path} has schema version {version}, but this version of outcomes only knows "
            f"version {SCHEMA_VERSION}; upgrade outcomes to open it."
        )
    return state


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


def secure_files(path: Path) -> list[str]:
    """Make the database and its -wal and -shm files owner-only (0600), whatever mode they were
    created with; return warnings for what cannot be made private (for the front end to show).

    A file made beforehand (``touch clinic.db``) or copied in keeps its 0644 otherwise, and
    SQLite creates -wal and -shm with the database file's mode."""
    warnings: list[str] = []
    for name in (str(path), *(f"{path}{suffix}" for suffix in COMPANIONS)):
        try:
            st = os.stat(name)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) & 0o077 == 0:
            continue
        try:
            os.chmod(name, stat.S_IMODE(st.st_mode) & 0o700 | 0o600)
        except OSError as exc:
            warnings.append(f"{name} is readable by other accounts and its permissions cannot be"
                            f" changed ({exc.strerror}); ask its owner to run chmod 600 on it.")
    warnings.extend(folder_warnings(path))
    return warnings


def folder_warnings(path: Path) -> list[str]:
    """A warning when other accounts can list the database's folder: the database is private,
    but backups, exports and packets saved beside it by other tools may not be."""
    folder = Path(path).expanduser().resolve().parent
    try:
        mode = folder.stat().st_mode
    except OSError:
        return []
    if mode & stat.S_IROTH:
        return [f"The folder {folder} can be read by other accounts on this computer; the "
                "database itself is private, but keep backups and exports in a private folder "
                f"(chmod 700 {folder})."]
    return []


def wal_left_by_crash(path: Path) -> bool:
    """True when a -wal file is present and no process has the database open: the program that
    wrote it ended without closing (a crash or a kill), and SQLite will replay it at open.

    A cleanly closed database has no -wal file; an open one has a lock on its -shm file, which
    Linux lists in /proc/locks (read, not taken: taking or even testing a POSIX lock from this
    process would release this process's own SQLite locks on the file). Without /proc/locks the
    answer is True, so the integrity check runs rather than being skipped."""
    wal = Path(f"{path}-wal")
    try:
        if wal.stat().st_size == 0:
            return False
        shm_inode = os.stat(f"{path}-shm").st_ino
    except FileNotFoundError:
        return wal.exists()
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            locks = fh.read().splitlines()
    except OSError:
        return True
    for line in locks:
        fields = line.split()
        device = next((f for f in fields if f.count(":") == 2), "")
        if device.rsplit(":", 1)[-1] == str(shm_inode):
            return False
    return True


def quick_check(db_or_conn: Database | sqlite3.Connection, path: Path | str | None) -> None:
    """Raise DamagedDatabase unless PRAGMA quick_check passes (every page and index readable)."""
    conn = db_or_conn if isinstance(db_or_conn, sqlite3.Connection) else db_or_conn.conn
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
    except sqlite3.DatabaseError as exc:
        raise DamagedDatabase(damaged_message(path, f"SQLite: {exc}")) from exc
    if rows != ["ok"]:
        raise DamagedDatabase(damaged_message(path, f"SQLite integrity check: {rows[0]}"))


def connect(path: Path) -> Database:
    """A connection with the pragmas every part of the app relies on."""
    # isolation_level=None: no implicit transactions; every write goes through transaction().
    # check_same_thread=False: the dashboard reads in worker threads.
    from sqlite_utils import Database

    timeout = busy_timeout_ms()
    conn = sqlite3.connect(
        str(path),
        timeout=timeout / 1000,
        check_same_thread=False,
        isolation_level=None,
    )
    db = Database(conn)
    db.execute(f"PRAGMA busy_timeout = {timeout}")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def open_db(path: Path | str, *, migrate: bool = True, check: bool = True) -> Database:
    """Open (creating if needed) the outcomes database at ``path``; bring its schema up to date.

    Makes the file and its companions owner-only and logs a warning (logger ``outcomes.store``)
    for what stays readable by others. Runs PRAGMA quick_check on files up to
    QUICK_CHECK_MAX_BYTES and after a crash, and refuses a damaged file (DamagedDatabase), unless
    ``check`` is False (restore, which replaces a damaged file)."""
    path = Path(path).expanduser()
    check_file(path)
    is_new = not path.exists() or path.stat().st_size == 0
    if is_new:
        _create_private_file(path)
    elif not os.access(path, os.W_OK):
        raise DatabaseError(f"{path} is read-only; the app needs to write to it.")
    for warning in secure_files(path):
        if warning not in _warned:  # once per process: a restore opens the file three times
            _warned.add(warning)
            log.warning(warning)
    must_check = check and not is_new and (
        path.stat().st_size <= QUICK_CHECK_MAX_BYTES or wal_left_by_crash(path))
    try:
        db = connect(path)
        if must_check:
            try:
                quick_check(db, path)
            except DamagedDatabase:
                db.close()
                raise
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
        if is_busy(exc):
            raise DatabaseBusy(busy_message(path)) from exc
        raise DatabaseError(f"Cannot open {path}: {exc}.") from exc
    except sqlite3.DatabaseError as exc:  # a damaged file found while migrating
        raise DamagedDatabase(damaged_message(path, f"SQLite: {exc}")) from exc
    return db


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's 'database is locked' / 'database is busy' after the busy timeout."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc))


def is_damaged(exc: BaseException) -> bool:
    """True for SQLite's 'database disk image is malformed' and 'file is not a database'."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    return "malformed" in str(exc) or "not a database" in str(exc)


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
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise DatabaseBusy(busy_message(db_file(conn))) from exc
        raise
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def db_file(conn: sqlite3.Connection) -> str | None:
    with contextlib.suppress(sqlite3.Error):
        for _seq, name, file in conn.execute("PRAGMA database_list"):
            if name == "main" and file:
                return str(file)
    return None


def prepare_existing(path: Path) -> None:
    """What open_db does at every open, for the dashboard's fast path (standard library only):
    owner-only files, a warning for a folder others can read, and the integrity check of a file
    left by a crash (before anything reads it: the first read replays the log). A small file's
    check runs once the dashboard's first screen is up instead (:func:`check_small_file`,
    called by the dashboard, whose writes wait for it): done here, it was 15-30 ms of the start
    before the first frame."""
    for warning in secure_files(path):
        log.warning(warning)
    if wal_left_by_crash(path):
        _check_path(path)


def check_small_file(path: Path) -> None:
    """The integrity check open_db runs at every open of a file up to QUICK_CHECK_MAX_BYTES
    (DamagedDatabase when it fails); nothing for a larger file."""
    if path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
        _check_path(path)


def _check_path(path: Path) -> None:
    conn = sqlite3.connect(str(path))
    try:
        quick_check(conn, path)
    finally:
        conn.close()


def row_as_dict(db: Queryable, sql: str, params: list[Any], missing: str) -> dict[str, Any]:
    """The one row of ``sql`` as a dict, or NotFound with ``missing`` as its message."""
    from outcomes.errors import NotFound

    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        raise NotFound(missing)
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def like_pattern(text: str) -> str:
    """A LIKE pattern (with ``ESCAPE '\\'``) matching ``text`` anywhere, literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
