"""Backup and restore with SQLite's online backup API: consistent copies while the app is in use.

A backup is a complete, checked database file with owner-only permissions. It is written under a
temporary name in the destination folder and renamed into place once checked, so a backup
killed midway never leaves a partial file under the real name (only a hidden ``.NAME.*.part``).
The source is checked (PRAGMA quick_check) first: a damaged database is not copied as if whole.

A restore checks the file it is given (integrity, that it is an outcomes database, a schema this
version knows) before anything is replaced, keeps the replaced database aside, and carries over
the audit rows written after the backup was taken, followed by a 'restore' row.

Both write an audit row: a backup copies every record out of the database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from outcomes.errors import DatabaseError
from outcomes.store import audit
from outcomes.store.database import (
    DamagedDatabase,
    apply_migrations,
    check_file,
    db_file,
    open_db,
    quick_check,
    transaction,
)
from outcomes.store.dbinfo import APPLICATION_ID

Progress = Callable[[int, int], None]  # (pages copied, pages in all)
PAGES_PER_STEP = 1024


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    kept_aside: Path
    carried_over: int = 0  # audit rows written after the backup, kept in the restored database
    replaced_damaged: bool = False


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot open a folder for fsync
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _publish(tmp: Path, dest: Path) -> None:
    """Give the finished ``tmp`` its real name without ever replacing an existing file."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise DatabaseError(
            f"{dest} already exists; choose a new file name for the backup.") from None
    except OSError:  # no hard links here (some network shares): rename after a last check
        if dest.exists():
            raise DatabaseError(
                f"{dest} already exists; choose a new file name for the backup.") from None
        os.replace(tmp, dest)
    _fsync_dir(dest.parent)


def _copy_to_temp(conn: sqlite3.Connection, dest: Path, progress: Progress | None) -> Path:
    """Copy the database open on ``conn`` to a checked temporary file (mode 0600) beside
    ``dest``; the caller gives it its name (:func:`_publish`) or deletes it."""
    if dest.exists() or dest.is_symlink():
        raise DatabaseError(f"{dest} already exists; choose a new file name for the backup.")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except OSError as exc:
        raise DatabaseError(f"Cannot write the backup to {dest}: {exc.strerror}.") from exc
    os.close(fd)
    tmp = Path(name)

    def step(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    try:
        target = sqlite3.connect(tmp)
        try:
            # Page-by-page copy under SQLite's own locking: writers may go on meanwhile.
            conn.backup(target, pages=PAGES_PER_STEP, progress=step)
            target.execute("PRAGMA journal_mode = DELETE")
            verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.Error as exc:
            raise DatabaseError(f"The backup to {dest} failed: {exc}.") from exc
        finally:
            target.close()
        if verdict != "ok":
            raise DatabaseError(f"The backup copy failed its integrity check ({verdict}).")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def copy_database(conn: sqlite3.Connection, dest: Path, *,
                  progress: Progress | None = None) -> Path:
    """Copy the database open on ``conn`` to the new file ``dest`` (mode 0600), checked, through
    a temporary file in the same folder. No audit row: see :func:`backup`."""
    dest = Path(dest).expanduser()
    tmp = _copy_to_temp(conn, dest, progress)
    try:
        _publish(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def backup(db: Database, dest: Path | str, *, progress: Progress | None = None) -> Path:
    """Check the open database, copy it to ``dest`` (a new file, mode 0600), check the copy and
    log the backup in the audit log.

    The copy gets its name inside the transaction that writes its audit row: when the row
    cannot be written (the database stays locked), no backup appears, so no copy of the data
    leaves unlogged."""
    dest = Path(dest).expanduser()
    quick_check(db, db_file(db.conn))
    tmp = _copy_to_temp(db.conn, dest, progress)
    try:
        with transaction(db):
            audit.log(db, "backup", "all", file=str(dest.resolve()))
            _publish(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def verify_backup(path: Path) -> None:
    """Raise DatabaseError unless ``path`` is an intact outcomes database this app can open."""
    if not path.is_file():
        raise DatabaseError(f"{path} does not exist or is not a regular file; nothing was "
                            "restored.")
    try:
        check_file(path)
    except DatabaseError as exc:
        reason = str(exc).split(";")[0]
        raise DatabaseError(f"{reason}; nothing was restored.") from exc
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path} is damaged and cannot be restored ({exc}).") from exc
    finally:
        conn.close()
    if app_id != APPLICATION_ID:
        raise DatabaseError(f"{path} is not an outcomes database; nothing was restored.")
    if verdict != "ok":
        raise DatabaseError(f"{path} fails its integrity check ({verdict}); nothing was restored.")


def _backup_head(source: Path) -> tuple[str | None, str]:
    """The backup's last audit hash (None before the chain existed) and last timestamp."""
    conn = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(audit_log)")}
        head = "hash" if "hash" in columns else "NULL"
        row = conn.execute(f"SELECT {head}, at FROM audit_log ORDER BY id DESC LIMIT 1"
                           ).fetchone()
    finally:
        conn.close()
    return (row[0], row[1]) if row else (None, "")


def audit_rows_after(db: Database, source: Path) -> list[audit.Entry]:
    """Audit rows of ``db`` written after the backup ``source`` was taken: those after the row
    that ends the backup's chain, or, for a backup from before the chain (or from another
    history), those with a later timestamp than the backup's last row."""
    head, last_at = _backup_head(source)
    if head is not None:
        found = db.execute("SELECT id FROM audit_log WHERE hash = ?", [head]).fetchone()
        if found:
            return audit.entries(db, after_id=found[0])
    return [e for e in audit.entries(db) if e.at > last_at]


def _is_damaged(db_path: Path) -> bool:
    if not db_path.exists() or db_path.stat().st_size == 0:
        return False
    db = open_db(db_path, migrate=False, check=False)
    try:
        quick_check(db, db_path)
    except DamagedDatabase:
        return True
    finally:
        db.close()
    return False


def _keep_damaged_aside(db_path: Path, aside: Path) -> None:
    """Copy a damaged database (and its -wal) byte for byte: the backup API cannot read it.
    Called while this process has no connection to it: closing a plain descriptor of the file
    would drop the POSIX locks of such a connection."""
    for suffix in ("", "-wal"):
        src = Path(f"{db_path}{suffix}")
        if not src.exists():
            continue
        dst = Path(f"{aside}{suffix}")
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
            shutil.copyfileobj(inp, out)
            out.flush()
            os.fsync(out.fileno())


def restore(db_path: Path, source: Path | str) -> RestoreResult:
    """Replace the database at ``db_path`` with the backup ``source``, keeping the old one aside
    and the audit rows written since the backup."""
    db_path = Path(db_path).expanduser()
    source = Path(source).expanduser()
    verify_backup(source)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = db_path.with_name(f"{db_path.stem}.before-restore-{stamp}{db_path.suffix}")
    damaged = _is_damaged(db_path)
    if damaged:  # before any connection of ours is open: see _keep_damaged_aside
        _keep_damaged_aside(db_path, aside)
    current = open_db(db_path, migrate=False, check=False)
    try:
        carried: list[audit.Entry] = []
        if not damaged:
            apply_migrations(current)  # so its audit rows can be read with their hashes
            carried = audit_rows_after(current, source)
            copy_database(current.conn, aside)
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            # The backup API writes into the live database under its write lock, so other
            # connections (an open dashboard) see either the old or the restored data.
            src.backup(current.conn)
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"The restore into {db_path} failed ({exc}); the previous "
                                f"database is kept at {aside}.") from exc
        finally:
            src.close()
    finally:
        current.close()
    restored = open_db(db_path)  # upgrades a restored older schema, and proves it opens
    try:
        with transaction(restored):
            audit.append(restored, [(e.at, e.action, e.entity, e.detail, e.actor)
                                    for e in carried])
            audit.log(restored, "restore", "all", file=str(source.resolve()),
                      kept_aside=str(aside), carried_over=len(carried),
                      replaced_damaged=damaged)
    finally:
        restored.close()
    return RestoreResult(source, aside, len(carried), damaged)
