"""outcomes imports sqlite-utils without numpy (which sqlite-utils would import only to map
numpy column types, a feature outcomes never uses), and numpy stays importable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import DEMO_TODAY


def run_python(code: str) -> object:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sqlite_utils_is_imported_without_numpy_and_numpy_still_imports() -> None:
    assert run_python(
        "import json, sys\n"
        "from outcomes.lean_imports import import_storage_lean\n"
        "import_storage_lean()\n"
        "loaded = ['sqlite_utils' in sys.modules, 'numpy' in sys.modules]\n"
        "import numpy, sqlite_utils.db\n"
        "print(json.dumps([*loaded, float(numpy.float64(1.5)), sqlite_utils.db.np is None]))\n"
    ) == [True, False, 1.5, True]


def test_it_leaves_an_already_loaded_numpy_alone() -> None:
    assert run_python(
        "import json, sys, numpy\n"
        "from outcomes.lean_imports import import_storage_lean\n"
        "import_storage_lean()\n"
        "print(json.dumps(['sqlite_utils' in sys.modules, sys.modules['numpy'] is numpy]))\n"
    ) == [False, True]


def test_the_dashboard_shows_its_queue_without_loading_numpy(demo_db_path: Path) -> None:
    """The whole first screen (numbers, queue, chart) in a fresh process: numpy is never
    loaded (the queue reads on the plain connection; sqlite-utils, if a worker has imported it
    by then, came in lean)."""
    assert run_python(
        "import asyncio, json, sys\n"
        "from datetime import date\n"
        "from outcomes_tui.app import make_app\n"
        "async def main():\n"
        f"    app = make_app({str(demo_db_path)!r}, today=date.fromisoformat("
        f"{DEMO_TODAY.isoformat()!r}))\n"
        "    async with app.run_test(size=(160, 48)) as pilot:\n"
        "        for _ in range(3000):\n"
        "            if getattr(app.screen, 'queue', None) is not None:\n"
        "                break\n"
        "            await pilot.pause(0.01)\n"
        "        await pilot.pause()\n"
        "        return [app.screen.queue.total > 0, 'numpy' in sys.modules]\n"
        "print(json.dumps(asyncio.run(main())))\n"
    ) == [True, False]


def test_a_command_reads_the_database_without_loading_numpy(demo_db_path: Path) -> None:
    assert run_python(
        "import contextlib, io, json, sys\n"
        "from outcomes.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        f"    main(['--db', {str(demo_db_path)!r}, 'partners', 'list', '--json'])\n"
        "print(json.dumps([len(json.loads(out.getvalue())) > 0, 'sqlite_utils' in sys.modules,\n"
        "                  'numpy' in sys.modules]))\n"
    ) == [True, True, False]


def test_the_alert_queue_reads_on_a_plain_connection_without_pydantic(
    demo_db_path: Path,
) -> None:
    """The dashboard's alert worker: the queue, computed on a plain read-only sqlite3
    connection, is the one computed on the sqlite-utils connection, and neither pydantic nor
    the record models are imported for it (the worsening check reads its scale facts with
    tomllib, the findings check no longer imports the write path)."""
    assert run_python(
        "import json, sqlite3, sys\n"
        "from datetime import date\n"
        "from outcomes.network.queue import work_queue\n"
        f"today = date.fromisoformat({DEMO_TODAY.isoformat()!r})\n"
        f"plain = sqlite3.connect('file:' + {str(demo_db_path)!r} + '?mode=ro', uri=True)\n"
        "queue = work_queue(plain, today)\n"
        "from outcomes.network.queue import evidence_sentences\n"
        "said = [evidence_sentences(i.alert) for k in queue.kinds for i in queue.items(k)]\n"
        "loaded = [m for m in ('pydantic', 'outcomes.models', 'outcomes.measures.instruments')\n"
        "          if m in sys.modules]\n"
        "from outcomes.store.database import open_db\n"
        f"again = work_queue(open_db({str(demo_db_path)!r}), today)\n"
        "def shown(q):\n"
        "    return [(i.key, i.alert.message) for k in q.kinds for i in q.items(k)]\n"
        "worse = [s for s in said if any('Measure: ' in line for line in s)]\n"
        "print(json.dumps([queue.total > 0, loaded, shown(queue) == shown(again),\n"
        "                  bool(worse) and all('ODI' in str(s) or 'QuickDASH' in str(s)\n"
        "                                      or 'JR' in str(s) or 'NPRS' in str(s)\n"
        "                                      or 'NDI' in str(s) or 'LEFS' in str(s)\n"
        "                                      for s in worse)]))\n"
    ) == [True, [], True, True]


def test_once_installed_any_thread_imports_sqlite_utils_lean_and_numpy_stays_importable(
) -> None:
    """The dashboard's hook: whichever thread first imports a module that imports sqlite-utils
    (here two at once, as the dashboard's workers do), numpy and pandas stay out; afterwards
    numpy imports as usual (the risk model needs it)."""
    assert run_python(
        "import json, sys, threading\n"
        "from outcomes.lean_imports import install_lean_storage\n"
        "install_lean_storage()\n"
        "def load(name):\n"
        "    __import__(name)\n"
        "threads = [threading.Thread(target=load, args=(m,)) for m in\n"
        "           ('outcomes.network.packet_effect', 'outcomes.network.partners')]\n"
        "for t in threads: t.start()\n"
        "for t in threads: t.join()\n"
        "lean = ['sqlite_utils' in sys.modules, 'numpy' in sys.modules, 'pandas' in sys.modules]\n"
        "import numpy\n"
        "print(json.dumps([*lean, numpy.__name__]))\n"
    ) == [True, False, False, "numpy"]
