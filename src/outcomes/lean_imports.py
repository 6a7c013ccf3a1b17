"""Imports every command pays for, kept to what it uses.

sqlite-utils imports numpy and pandas whenever they are installed (matplotlib, for the packets,
installs numpy), only to map their scalar types to column types when it creates a table from
Python values. outcomes never does that (the schema is the migrations, every write is SQL), yet
the import of numpy cost the dashboard ~0.15 s of CPU before its alert queue could show, on a
machine where the whole first screen of a minimal Textual app takes ~0.3 s.

Nothing here opens or queries a database: it only decides which optional modules a library's
import may pull in. The command line calls :func:`import_storage_lean` before it builds its
commands; the dashboard calls :func:`install_lean_storage` as it starts, an import hook that
makes the first import of sqlite-utils lean in whichever worker thread runs it (importing it
in the package's ``__init__`` would put it on the dashboard's main thread before its first
paint). It relies on sqlite-utils importing numpy
and pandas inside ``try/except ImportError``: pyproject.toml pins sqlite-utils below 5 for
that reason, and tests/test_lean_imports.py fails if a release changes it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # the import system needs no base class; importlib.abc costs 1.5 ms
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec
    from types import ModuleType

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


class _LeanLoader:
    """Runs a module with the ``optional`` modules blocked, then unblocks them (a loader by
    protocol: ``create_module`` and ``exec_module``)."""

    def __init__(self, inner: Loader, optional: tuple[str, ...]) -> None:
        self.inner = inner
        self.optional = optional

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        blocked = [name for name in self.optional if name not in sys.modules]
        for name in blocked:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            self.inner.exec_module(module)
        finally:
            for name in blocked:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]

    def __getattr__(self, name: str) -> Any:  # resources, source: the real loader's
        return getattr(self.inner, name)


class _LeanFinder:
    """Finds ``module`` as the other finders do, and has it run by a :class:`_LeanLoader` (a
    meta path finder by protocol: ``find_spec``)."""

    def __init__(self, module: str, optional: tuple[str, ...]) -> None:
        self.module = module
        self.optional = optional

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname != self.module or any(name in sys.modules for name in self.optional):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = cast("Loader", _LeanLoader(spec.loader, self.optional))
                return spec
        return None


def install_lean_storage() -> None:
    """From now on, sqlite-utils is imported without numpy and pandas by whichever thread
    imports it first. The dashboard calls this at start: its workers import modules that
    import sqlite-utils in whatever order they run, and a call of
    :func:`import_storage_lean` in one of them lost that race now and then. Nothing is
    imported here; a no-op once sqlite-utils is loaded."""
    if STORAGE_LIBRARY in sys.modules or any(
            isinstance(f, _LeanFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _LeanFinder(STORAGE_LIBRARY, STORAGE_OPTIONAL))
