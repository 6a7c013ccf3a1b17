"""The core never imports the front end, and heavy libraries stay off the start-up path."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import outcomes

CORE_MODULES = sorted(
    m.name for m in pkgutil.walk_packages(outcomes.__path__, prefix="outcomes.")
)
FRONT_END = ("textual", "outcomes_tui")
# numpy is not listed: sqlite-utils imports it whenever it is installed (matplotlib brings it).
HEAVY = ("matplotlib", "fpdf", "plotext", "pandas", "PIL")


def loaded_after_import(module: str) -> set[str]:
    code = (f"import json, sys; import {module}; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent)
    return set(json.loads(out.stdout))


def test_core_modules_are_found() -> None:
    assert "outcomes.store.database" in CORE_MODULES and "outcomes.cli" in CORE_MODULES


def test_no_core_module_imports_the_front_end() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    loaded = set(json.loads(out.stdout))
    assert not loaded & set(FRONT_END), loaded & set(FRONT_END)


def test_no_core_source_names_the_front_end() -> None:
    """A static check too: importlib tricks aside, no core file imports textual or the TUI."""
    root = Path(outcomes.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                f" {name}" in stripped or f"{name}." in stripped for name in FRONT_END
            ):
                offenders.append(f"{path.relative_to(root)}: {stripped}")
    assert offenders == []


def test_cli_start_up_does_not_load_heavy_libraries() -> None:
    loaded = loaded_after_import("outcomes.cli")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_dashboard_entry_point_is_light() -> None:
    """`outcomes` with no command checks the file and starts the dashboard without typer,
    pydantic or sqlite-utils (they cost a third of a second before the first paint)."""
    loaded = loaded_after_import("outcomes.cli")
    assert not loaded & {"typer", "pydantic", "sqlite_utils", "click"}, loaded


def test_dashboard_only_recognises_just_the_database_option() -> None:
    from pathlib import Path

    from outcomes.cli import _NOT_DASHBOARD, dashboard_only

    assert dashboard_only([]) is None
    assert dashboard_only(["--db", "x.db"]) == Path("x.db")
    assert dashboard_only(["--db=x.db", "--debug"]) == Path("x.db")
    for args in (["init"], ["--db", "x.db", "init"], ["--version"], ["-h"], ["--db"]):
        assert dashboard_only(args) is _NOT_DASHBOARD, args


def test_dashboard_first_screen_is_light() -> None:
    """The dashboard's first screen reads through plain sqlite3 connections: opening it loads
    neither pydantic nor sqlite-utils (a rule module that pulled in storage did, 0.2 s)."""
    loaded = loaded_after_import("outcomes_tui.screens.dashboard")
    assert not loaded & {"typer", "pydantic", "sqlite_utils", "click"}, loaded
