"""The audit log: one row per write operation (who changed what, when, from which file)."""

from __future__ import annotations

import getpass
import json
import os
from functools import cache
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso


def log(db: Database, action: str, entity: str, **detail: Any) -> None:
    """Record a write. Call inside the same transaction as the write it describes."""
    db.execute(
        "INSERT INTO audit_log (at, action, entity, detail, actor) VALUES (?, ?, ?, ?, ?)",
        [now_iso(), action, entity, json.dumps(detail, default=str, sort_keys=True), _actor()],
    )


@cache
def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid {os.getuid()}"
