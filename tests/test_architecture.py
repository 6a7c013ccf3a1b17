"""The architecture holds: layers and the Textual ban (import-linter contracts in
pyproject.toml), no SQL or database driver in the front ends, a core grouped by domain."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRONT_ENDS = [ROOT / "src" / "outcomes" / "cli", ROOT / "tui" / "outcomes_tui"]
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b")
DRIVERS = re.compile(r"^\s*(import|from)\s+(sqlite3|sqlite_utils)\b", re.M)
LONG_MODULE = 450


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _front_end_files() -> list[Path]:
    return [p for folder in FRONT_ENDS for p in folder.rglob("*.py")]


def test_front_ends_hold_no_sql_and_no_database_driver() -> None:
    offenders = []
    for path in _front_end_files():
        text = path.read_text()
        for number, line in enumerate(text.splitlines(), 1):
            if SQL.search(line) or DRIVERS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_checks_above_would_see_sql(tmp_path: Path) -> None:
    """The patterns are not vacuous: they find what they ban."""
    assert SQL.search('db.execute("SELECT id FROM partners")')
    assert DRIVERS.search("import sqlite3\n") and DRIVERS.search("from sqlite_utils import X\n")


def test_the_core_is_grouped_by_domain() -> None:
    core = ROOT / "src" / "outcomes"
    top_modules = sorted(p.name for p in core.glob("*.py"))
    assert len(top_modules) <= 12, top_modules
    packages = {p.name for p in core.iterdir() if (p / "__init__.py").exists()}
    assert {"store", "network", "measures", "reports", "documents", "importing",
            "cli"} <= packages


def test_long_modules_say_why() -> None:
    """A module over ~450 lines says in its opening docstring why it is one module."""
    unexplained = []
    for path in (ROOT / "src" / "outcomes").rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > LONG_MODULE and "one module because" not in text[:3000].lower():
            unexplained.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert unexplained == []
