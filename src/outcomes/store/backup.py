"""Backup and restore with SQLite's online backup API: consistent copies while the app is in use.

A backup is a complete, checked database file created with owner-only permissions. A restore
checks the file it is given (integrity, that it is an outcomes database, a schema this version
knows) before anything is replaced, and keeps the replaced database aside.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from outcomes.errors import DatabaseError
from outcomes.store.database import check_file, open_db
from outcomes.store.dbinfo import APPLICATION_ID


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    kept_aside: Path


def _private_target(dest: Path) -> None:
    if dest.exists():
        raise DatabaseError(f"{dest} already exists; choose a new file name for the backup.")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise DatabaseError(f"Cannot write the backup to {dest}: {exc.strerror}.") from exc


def backup(db: Database, dest: Path | str) -> Path:
    """Copy the open database to ``dest`` (a new file, mode 0600) and check the copy."""
    dest = Path(dest).expanduser()
    _private_target(dest)
    target = sqlite3.connect(dest)
    try:
        # Page-by-page copy under SQLite's own locking: writers may go on meanwhile.
        db.conn.backup(target, pages=1024)
        target.execute("PRAGMA journal_mode = DELETE")
        verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as exc:
        target.close()
        dest.unlink(missing_ok=True)
        raise DatabaseError(f"The backup to {dest} failed: {exc}.") from exc
    target.close()
    if verdict != "ok":
        dest.unlink(missing_ok=True)
        raise DatabaseError(f"The backup copy failed its integrity check ({verdict}).")
    return dest


def verify_backup(path: Path) -> None:
    """Raise DatabaseError unless ``path`` is an intact outcomes database this app can open."""
    if not path.is_file():
        raise DatabaseError(f"{path} does not exist.")
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


def restore(db_path: Path, source: Path | str) -> RestoreResult:
    """Replace the database at ``db_path`` with the backup ``source``, keeping the old one."""
    source = Path(source).expanduser()
    verify_backup(source)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = db_path.with_name(f"{db_path.stem}.before-restore-{stamp}{db_path.suffix}")
    current = open_db(db_path)
    try:
        backup(current, aside)
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            # The backup API writes into the live database under its write lock, so other
            # connections (an open dashboard) see either the old or the restored data.
            src.backup(current.conn)
        finally:
            src.close()
    finally:
        current.close()
    open_db(db_path).close()  # upgrade a restored older schema now, and prove it opens
    return RestoreResult(source, aside)
