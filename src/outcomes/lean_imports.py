"""Imports every command pays for, kept to what it uses.

sqlite-utils imports numpy and pandas whenever they are installed (matplotlib, for the packets,
installs numpy), only to map their scalar types to column types when it creates a table from
Python values. outcomes never does that (the schema is the migrations, every write is SQL), yet
the import of numpy cost the dashboard ~0.15 s of CPU before its alert queue could show, on a
machine where the whole first screen of a minimal Textual app takes ~0.3 s.

Nothing here opens or queries a database: it only decides which optional modules a library's
import may pull in. The command line calls :func:`import_storage_lean` before it builds its
commands, and the dashboard's connections before their first sqlite-utils connection
(``store.connections``; not the package's ``__init__``: that would put sqlite-utils on the
dashboard's main thread before its first paint). It relies on sqlite-utils importing numpy
and pandas inside ``try/except ImportError``: pyproject.toml pins sqlite-utils below 5 for
that reason, and tests/test_lean_imports.py fails if a release changes it.
"""

from __future__ import annotations

import importlib
import sys

STORAGE_LIBRARY = "sqlite_utils"
STORAGE_OPTIONAL = ("numpy", "pandas")
"""What sqlite-utils imports only when it finds them."""


def import_without(module: str, optional: tuple[str, ...]) -> None:
    """Import ``module`` while the ``optional`` modules it would import if present are blocked
    (``None`` in ``sys.modules`` makes their import raise ImportError), then unblock them, so
    they stay importable for whoever needs them later (the risk model imports numpy).

    A no-op when ``module`` or any of ``optional`` is already loaded. Not thread-safe against a
    second thread importing one of ``optional`` during the call: call it where none does."""
    if module in sys.modules or any(name in sys.modules for name in optional):
        return
    for name in optional:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        importlib.import_module(module)
    finally:
        for name in optional:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def import_storage_lean() -> None:
    """sqlite-utils without numpy and pandas."""
    import_without(STORAGE_LIBRARY, STORAGE_OPTIONAL)
