"""Writing files that may hold health information: owner-only permissions from the start."""

from __future__ import annotations

import os
from pathlib import Path


def open_private(path: Path, mode: str = "w", **kwargs: object):  # type: ignore[no-untyped-def]
    """Open ``path`` for writing, created with mode 0600 (an existing file keeps its mode)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, mode, **kwargs)  # type: ignore[call-overload]


def write_private_text(path: Path, text: str) -> None:
    with open_private(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def write_private_bytes(path: Path, data: bytes) -> None:
    with open_private(path, "wb") as fh:
        fh.write(data)
