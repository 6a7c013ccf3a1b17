"""Measurements that must run in a fresh process (start-up time, peak memory, cold imports).

``python -m bench.probe KIND ARGS...`` prints one JSON line per event, flushed as it happens, so
the parent can time each event from the moment it started the process. The last line carries
``peak_rss_kb`` (the peak resident set of this process, VmHWM).

Kinds:
- ``minimal DB``: a minimal Textual app (Header, DataTable, Footer) that reads 100 partners from
  the database and shows them; the floor of the dashboard.
- ``dashboard DB TODAY``: the real dashboard (``outcomes_tui.app.make_app``) on the database.
- ``responsiveness DB TODAY``: the longest event-loop stall during each screen change and
  filter keystroke of RESPONSIVENESS_STEPS.
- ``prospects DB NPPES``: ``outcomes.prospects.import_prospects`` over an NPPES file.
- ``csvpass NPPES``: a bare ``csv.reader`` pass over the same file (the floor).
- ``packet DB PARTNER_ID OUT START END TODAY``: one evidence packet, cold (fresh imports).
- ``importmem ours|floor DB CSV KIND TODAY``: one import (ours, or the floor), for peak memory.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

SIZE = (120, 40)
TIMEOUT_S = 120.0
IDLE_S = 5.0
"""The pause after the responsiveness steps: longer than the app's wait for an idle user."""


def peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM). ``ru_maxrss`` is not used: on Linux it keeps
    the parent's peak across fork and exec, so a child of a big harness would report that."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def emit(event: str, **data: Any) -> None:
    data["event"] = event
    data["peak_rss_kb"] = peak_rss_kb()
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def _workers_idle(app: Any) -> bool:
    from textual.worker import WorkerState

    return all(w.state not in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)


async def _until(pilot: Any, condition: Any) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the screen never showed its data")
        await pilot.pause(0.005)


def minimal(db_path: str) -> None:
    import sqlite3

    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            conn = sqlite3.connect(db_path)
            rows = conn.execute("SELECT name, kind, npi FROM partners ORDER BY name LIMIT 100")
            table = self.query_one(DataTable)
            table.add_columns("name", "kind", "npi")
            table.add_rows(rows.fetchall())
            conn.close()

    async def main() -> None:
        app = Minimal()
        async with app.run_test(size=SIZE) as pilot:
            table = app.query_one(DataTable)
            await _until(pilot, lambda: table.row_count > 0)
            await pilot.pause()
            emit("complete", rows=table.row_count)

    asyncio.run(main())


def dashboard(db_path: str, today: str) -> None:
    from outcomes_tui.app import make_app

    async def main() -> None:
        app = make_app(Path(db_path), today=date.fromisoformat(today))
        async with app.run_test(size=SIZE) as pilot:

            def kpis_shown() -> bool:
                try:
                    kpi = app.screen.query_one("#kpi-month")
                except Exception:
                    return _workers_idle(app)
                return "…" not in str(kpi.render())

            await _until(pilot, kpis_shown)
            emit("first_data", screen=type(app.screen).__name__)
            await _until(pilot, lambda: _workers_idle(app))
            await pilot.pause()
            shown: dict[str, Any] = {"screen": type(app.screen).__name__}
            try:
                from textual.widgets import DataTable

                shown["table_rows"] = sum(t.row_count for t in app.screen.query(DataTable))
                shown["kpi"] = str(app.screen.query_one("#kpi-month").render())[:80]
            except Exception as exc:  # the dashboard's layout is not ours to rely on
                shown["note"] = str(exc)[:80]
            emit("complete", **shown)

    asyncio.run(main())


def prospects(db_path: str, nppes: str, states: str, kinds: str) -> None:
    from outcomes.network.prospects import import_prospects
    from outcomes.store.database import open_db

    db = open_db(db_path)
    start = time.perf_counter()
    report = import_prospects(db, Path(nppes), states=states.split(",") if states else (),
                              kinds=kinds.split(",") if kinds else ())
    elapsed = time.perf_counter() - start
    emit("complete", elapsed=elapsed, report=_plain(report))


def csvpass(nppes: str) -> None:
    from .floors import csv_pass

    start = time.perf_counter()
    rows = csv_pass(Path(nppes))
    emit("complete", elapsed=time.perf_counter() - start, rows=rows)


def packet(db_path: str, partner_id: str, out: str, start: str, end: str, today: str) -> None:
    from outcomes.documents.packets import make_packet
    from outcomes.store.database import open_db

    db = open_db(db_path)
    t0 = time.perf_counter()
    made = make_packet(db, int(partner_id), Path(out), date.fromisoformat(start),
                       date.fromisoformat(end), today=date.fromisoformat(today))
    elapsed = time.perf_counter() - t0
    emit("complete", elapsed=elapsed, bytes=Path(made.path).stat().st_size)


def _plain(report: Any) -> Any:
    if hasattr(report, "__dataclass_fields__"):
        return {k: v for k, v in vars(report).items() if isinstance(v, int | float | str)}
    return str(report)[:200]


# Screen changes and keystrokes the responsiveness figure replays on the dashboard, with the
# label each stall is reported under. F-keys switch screens even when a filter box has focus.
RESPONSIVENESS_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("open partners", ("f3",)),
    ("filter keystroke", ("H",)),
    ("filter keystroke", ("a",)),
    ("filter keystroke", ("l",)),
    ("filter keystroke", ("backspace",)),
    ("open patients", ("f4",)),
    ("search keystroke", ("R",)),
    ("search keystroke", ("1",)),
    ("back to dashboard", ("f2",)),
    ("partners again", ("f3",)),
    ("open a partner", ("down", "enter")),
    ("back to partners", ("escape",)),
    ("open import", ("f6",)),
    ("open packets", ("f7",)),
    ("back to dashboard", ("f2",)),
)


def responsiveness(db_path: str, today: str) -> None:
    """The longest the event loop stalls (a 10 ms heartbeat that arrives late) during each
    step of RESPONSIVENESS_STEPS, after the first screen and its background work are done.

    Also the longest full garbage collection (generation 2) during each step: it stops every
    thread, and on a big clinic's heap it is most of the stalls (``gc_ms``)."""
    import gc

    from outcomes_tui.app import make_app

    collecting = [0.0]
    full, idle_full = [0], [0]
    collections: dict[str, float] = {}

    def timed_gc(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            collecting[0] = time.perf_counter()
        else:
            took = time.perf_counter() - collecting[0]
            if label[0] == "idle":
                idle_full[0] += 1
            elif label[0] not in ("start-up", "done"):
                full[0] += 1
            collections[label[0]] = max(collections.get(label[0], 0.0), took)

    async def main() -> None:
        app = make_app(Path(db_path), today=date.fromisoformat(today))
        stalls: dict[str, float] = {}
        last = [time.perf_counter()]

        def beat() -> None:
            now = time.perf_counter()
            stalls[label[0]] = max(stalls.get(label[0], 0.0), now - last[0] - 0.01)
            last[0] = now

        async with app.run_test(size=SIZE) as pilot:
            app.set_interval(0.01, beat)
            await _until(pilot, lambda: _workers_idle(app))
            await pilot.pause(2.0)  # the background warm-up after the first paint
            await _until(pilot, lambda: _workers_idle(app))
            visited = []
            for name, keys in RESPONSIVENESS_STEPS:
                label[0] = name
                last[0] = time.perf_counter()
                for key in keys:
                    await pilot.press(key)
                await _until(pilot, lambda: _workers_idle(app))
                await pilot.pause(0.2)
                visited.append(type(app.screen).__name__)
            label[0] = "done"
            screen = type(app.screen).__name__
            # What a full collection would walk now (a frozen start-up heap is not in
            # gc.get_objects) and how much is frozen, before the app gives the policy back.
            heap = {"tracked": len(gc.get_objects()), "frozen": gc.get_freeze_count()}
            # Then a user who stops typing: what is left once the app had time to collect.
            label[0] = "idle"
            await pilot.pause(IDLE_S)
            heap["tracked_after_idle"] = len(gc.get_objects())
            heap["idle_full_collections"] = idle_full[0]
        outside = ("start-up", "done", "idle")
        steps = {k: round(v * 1000, 1) for k, v in stalls.items() if k not in outside}
        gc_ms = {k: round(v * 1000, 1) for k, v in collections.items() if k not in outside}
        heap["idle_gc_ms"] = round(collections.get("idle", 0.0) * 1000, 1)
        heap["start_up_gc_ms"] = round(collections.get("start-up", 0.0) * 1000, 1)
        emit("complete", stalls_ms=steps, gc_ms=gc_ms, screen=screen, visited=visited,
             full_collections=full[0], **heap)

    label = ["start-up"]
    gc.callbacks.append(timed_gc)
    try:
        asyncio.run(main())
    finally:
        gc.callbacks.remove(timed_gc)


def importmem(which: str, db_path: str, csv_path: str, kind: str, today: str) -> None:
    """One import in a fresh process, for its peak memory: ``ours`` is run_import (the bulk
    engine), ``floor`` is bench.floors.import_floor_kind."""
    from outcomes.store.database import open_db

    db = open_db(Path(db_path))
    start = time.perf_counter()
    if which == "ours":
        from outcomes.importing.importer import run_import

        rows = run_import(db, kind, Path(csv_path), today=date.fromisoformat(today)).rows
    else:
        from bench.floors import drop_triggers, import_floor_kind

        drop_triggers(db)
        rows = import_floor_kind(db, Path(csv_path), kind)
    elapsed = time.perf_counter() - start
    db.close()
    emit("complete", elapsed=elapsed, rows=rows)


KINDS: dict[str, Callable[..., None]] = {
    "importmem": importmem,
    "minimal": minimal, "dashboard": dashboard, "prospects": prospects, "csvpass": csvpass,
    "responsiveness": responsiveness,
    "packet": packet,
}


if __name__ == "__main__":
    KINDS[sys.argv[1]](*sys.argv[2:])
