"""Run the benchmark and write docs/benchmarks.md.

``python -m bench.run [--smoke] [--out docs/benchmarks.md] [--runs N] [--data-dir DIR]``

Every figure is the median of several runs (with min and max), and its floor is measured in the
same run, interleaved with ours, so that both see the same machine load. The ratio is ours / floor.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from . import floors
from .generate import (
    BENCH_TODAY,
    FULL,
    IMPORT_ORDER,
    SMOKE,
    Dataset,
    build_database,
    generate,
    mark_built,
)

ROOT = Path(__file__).resolve().parent.parent
NPPES_STATES = ["OR"]
PARTNERS_EXTRA_RUNS = 12
"""Extra samples of the partners import (import_figures): its 400 rows take ~10 ms."""
NPPES_KINDS = ["primary care", "orthopedic surgeon", "sports medicine", "podiatrist",
               "spine surgeon", "neurologist"]


@dataclass
class Stat:
    values: list[float]
    unit: str = "s"

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self) -> str:
        lo, hi = min(self.values), max(self.values)
        if self.unit == "MB":
            return f"{self.median:.0f} MB ({lo:.0f}–{hi:.0f})"
        if self.median < 1:
            return f"{self.median * 1000:.1f} ms ({lo * 1000:.1f}–{hi * 1000:.1f})"
        return f"{self.median:.2f} s ({lo:.2f}–{hi:.2f})"


@dataclass
class Figure:
    name: str
    floor_name: str
    target: str
    ours: Stat | None = None
    floor: Stat | None = None
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.floor is None or self.floor.median == 0:
            return None
        return self.ours.median / self.floor.median


class Bench:
    def __init__(self, dataset: Dataset, work: Path, runs: int, log: Callable[[str], None]):
        self.dataset, self.work, self.runs, self.log = dataset, work, runs, log
        self.big_db = dataset.root / "bench.db"
        self.period = (BENCH_TODAY - timedelta(days=365), BENCH_TODAY)

    # -- helpers ---------------------------------------------------------------------------

    def fresh_db_path(self, name: str) -> Path:
        path = self.work / name
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return path

    def probe(self, *args: str) -> dict[str, tuple[float, dict[str, Any]]]:
        """Run ``python -m bench.probe ARGS``; return event -> (seconds since start, data)."""
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bench.probe", *args], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        events: dict[str, tuple[float, dict[str, Any]]] = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            at = time.perf_counter() - start
            if line.startswith("{"):
                data = json.loads(line)
                events[data["event"]] = (at, data)
        _, err = proc.communicate()
        if proc.returncode != 0 or "complete" not in events:
            raise RuntimeError(f"probe {args[0]} failed: {err.strip().splitlines()[-1:]}")
        return events

    def partner_id(self, db: Any) -> int:
        npi = self.dataset.partner_npis[0]
        return int(db.execute("SELECT id FROM partners WHERE npi = ?", [npi]).fetchone()[0])

    # -- figures ---------------------------------------------------------------------------

    def import_figures(self) -> list[Figure]:
        """Per kind and whole: our import (bulk engine) against the floor, in the import order,
        each into its own new database, floor and ours interleaved per kind."""
        from outcomes.importing.importer import run_import
        from outcomes.store.database import open_db

        ours: dict[str, list[float]] = {k: [] for k in IMPORT_ORDER}
        floor: dict[str, list[float]] = {k: [] for k in IMPORT_ORDER}
        # One untimed import of the small partners file each first, as the terminal figures
        # start each program once untimed: loading the import's modules is paid once per
        # process, whatever the file, and the floor's (csv, sqlite3) are loaded before timing.
        # Without it the first run of a 400-row file was mostly module loading (32 ms of it
        # against 9 ms warm), and with three runs the median moved with it.
        warm = open_db(self.fresh_db_path("warm-floor.db"))
        floors.drop_triggers(warm)
        floors.import_floor_kind(warm, self.dataset.files["partners"], "partners")
        warm.close()
        warm = open_db(self.fresh_db_path("warm-ours.db"))
        run_import(warm, "partners", self.dataset.files["partners"], today=BENCH_TODAY)
        warm.close()
        for i in range(self.runs):
            floor_db = open_db(self.fresh_db_path("floor.db"))
            floors.drop_triggers(floor_db)
            path = self.fresh_db_path("ours.db")
            db = open_db(path)
            for kind in IMPORT_ORDER:
                self.log(f"import run {i + 1}/{self.runs}: {kind}")
                self._time_import(floor_db, db, kind, floor, ours)
                self.log(f"  floor {floor[kind][-1]:.2f} s, ours {ours[kind][-1]:.2f} s")
                if kind == "outbound" and i == self.runs - 1:
                    # The state the responses import starts from, for the memory figure.
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    shutil.copyfile(path, self.work / "before-responses.db")
            floor_db.close()
            db.close()
        # More samples of the partners file alone (each into new databases, as the first kind
        # of a run is): 400 rows take ~10 ms, and three samples of that on a shared machine
        # put its median anywhere within +-15% (2.4x to 2.7x between two runs of the same
        # code). The whole import's figure keeps the first runs' sums.
        for i in range(PARTNERS_EXTRA_RUNS):
            self.log(f"partners import, extra sample {i + 1}/{PARTNERS_EXTRA_RUNS}")
            floor_db = open_db(self.fresh_db_path("partners-floor.db"))
            floors.drop_triggers(floor_db)
            db = open_db(self.fresh_db_path("partners-ours.db"))
            self._time_import(floor_db, db, "partners", floor, ours)
            floor_db.close()
            db.close()
        figures = []
        for kind in IMPORT_ORDER:
            fig = Figure(f"CSV import, {kind} (full validation and scoring)",
                         "csv.reader + executemany, same tables, no triggers", "<= 2.5x")
            fig.ours, fig.floor = Stat(ours[kind]), Stat(floor[kind])
            fig.met = fig.ratio is not None and fig.ratio <= 2.5
            rows = self.dataset.counts[kind]
            fig.note = f"{rows:,} rows; ours {rows / fig.ours.median:,.0f} rows/s"
            figures.append(fig)
        whole = Figure("CSV import of the whole dataset (all kinds, full validation)",
                       "csv.reader + executemany per table, one transaction per file, "
                       "no triggers, no validation", "<= 2.5x")
        whole.ours = Stat([sum(v) for v in zip(*(o[:self.runs] for o in ours.values()),
                                               strict=True)])
        whole.floor = Stat([sum(v) for v in zip(*(f[:self.runs] for f in floor.values()),
                                                strict=True)])
        whole.met = whole.ratio is not None and whole.ratio <= 2.5
        rows = sum(self.dataset.counts[k] for k in IMPORT_ORDER)
        whole.note = (f"{rows:,} rows in {len(IMPORT_ORDER)} files; ours "
                      f"{rows / whole.ours.median:,.0f} rows/s")
        return [whole, *figures]

    def _time_import(self, floor_db: Any, db: Any, kind: str, floor: dict[str, list[float]],
                     ours: dict[str, list[float]]) -> None:
        """One file of ``kind`` imported by the floor, then by ours; each time appended."""
        from outcomes.importing.importer import run_import

        for times, load in ((floor, lambda: floors.import_floor_kind(
                                floor_db, self.dataset.files[kind], kind)),
                            (ours, lambda: run_import(db, kind, self.dataset.files[kind],
                                                      today=BENCH_TODAY))):
            gc.collect()
            t = time.perf_counter()
            load()
            times[kind].append(time.perf_counter() - t)

    def import_memory_figure(self) -> Figure:
        """Peak memory of the responses import against the floor's, on the whole file and on
        a tenth of it, each in a fresh process starting from the same database."""
        fig = Figure("peak memory of the responses import (fresh process)",
                     "the floor's import of the same file", "<= 2x, flat as the file grows 10x")
        base = self.work / "before-responses.db"
        if not base.exists():
            fig.note = "not measured: run with the import figure"
            return fig
        full = self.dataset.files["responses"]
        tenth = self.work / "responses-tenth.csv"
        with full.open(encoding="utf-8") as src, tenth.open("w", encoding="utf-8") as out:
            keep = max(self.dataset.counts["responses"] // 10, 1) + 1
            for n, line in enumerate(src):
                if n >= keep:
                    break
                out.write(line)
        peaks: dict[tuple[str, str], float] = {}
        for which in ("floor", "ours"):
            for label, path in (("tenth", tenth), ("whole", full)):
                self.log(f"import memory: {which}, {label} file")
                work_db = self.fresh_db_path("memory.db")
                shutil.copyfile(base, work_db)
                events = self.probe("importmem", which, str(work_db), str(path), "responses",
                                    BENCH_TODAY.isoformat())
                peaks[(which, label)] = events["complete"][1]["peak_rss_kb"] / 1024
        fig.ours = Stat([peaks[("ours", "whole")]], "MB")
        fig.floor = Stat([peaks[("floor", "whole")]], "MB")
        growth = peaks[("ours", "whole")] / peaks[("ours", "tenth")]
        floor_growth = peaks[("floor", "whole")] / peaks[("floor", "tenth")]
        fig.met = (fig.ratio is not None and fig.ratio <= 2 and growth <= 1.25)
        fig.note = (f"peak RSS on a tenth of the file / the whole file: ours "
                    f"{peaks[('ours', 'tenth')]:.0f} / {peaks[('ours', 'whole')]:.0f} MB "
                    f"(x{growth:.2f} for 10x the rows), floor {peaks[('floor', 'tenth')]:.0f} / "
                    f"{peaks[('floor', 'whole')]:.0f} MB (x{floor_growth:.2f}); flat = at most "
                    "x1.25")
        return fig

    def scorecard_figure(self, evidence: bool = False, recovery: bool = False) -> Figure:
        title = (EVIDENCE_TITLE if evidence else RECOVERY_TITLE if recovery
                 else "scorecard for all partners (in-process, warm)")
        fig = Figure(title, "best hand-written single SQL query over raw tables", "<= 0.5x")
        try:
            from outcomes.reports.scorecard import scorecard
        except ImportError as exc:
            fig.note = f"not measured: outcomes.scorecard is missing ({exc})"
            return fig
        from outcomes.measures.catalog import instruments
        from outcomes.store.database import open_db

        db = open_db(self.big_db)
        if evidence:
            fitted = self.fit_models(db)
        start, end = self.period
        sql = floors.scorecard_sql(instruments())
        result = scorecard(db, start, end, evidence=evidence, recovery=recovery)
        floors.scorecard_floor(db, sql, start, end)
        ours, floor = [], []
        for _ in range(max(self.runs, 5)):
            t = time.perf_counter()
            floors.scorecard_floor(db, sql, start, end)
            floor.append(time.perf_counter() - t)
            t = time.perf_counter()
            scorecard(db, start, end, evidence=evidence, recovery=recovery)
            ours.append(time.perf_counter() - t)
        db.close()
        fig.ours, fig.floor = Stat(ours), Stat(floor)
        fig.met = fig.ratio is not None and fig.ratio <= 0.5
        fig.note = (f"{len(result.partners)} partners, period {start} to {end}")
        if evidence or recovery:
            followed = result.clinic.time_to_recovery
            fig.note += f"; time to recovery on {followed.n if followed else 0:,} episodes"
        if evidence:
            fig.note += f", observed minus expected under {fitted}"
        return fig

    def evidence_figure(self) -> Figure:
        """The scorecard with each block's time to recovery and observed minus expected
        (``--evidence``), measured as the scorecard is, against the same floor."""
        return self.scorecard_figure(evidence=True)

    def fit_models(self, db: Any) -> str:
        """Fit the risk models once on the big database (as a clinic would before reading
        observed minus expected), so the evidence figures run under real models."""
        from outcomes.reports.adjusted import fit_models, load_models

        models = load_models(db)
        if not models:
            t = time.perf_counter()
            fit_models(db)
            self.log(f"models fitted in {time.perf_counter() - t:.2f} s")
            models = load_models(db)
        return f"{len(models)} fitted models"

    def drilldown_figure(self) -> Figure:
        fig = Figure("one partner's drill-down (monthly referrals, outcomes)",
                     "hand-written SQL for the same content", "<= 2x and < 50 ms")
        try:
            from outcomes.reports.partners import partner_detail
        except ImportError as exc:
            fig.note = f"not measured: outcomes.reports.partners is missing ({exc})"
            return fig
        from outcomes.store.database import open_db

        db = open_db(self.big_db)
        pid = self.partner_id(db)
        partner_detail(db, pid, BENCH_TODAY)
        floors.drilldown_floor(db, pid, BENCH_TODAY)
        ours, floor = [], []
        for _ in range(max(self.runs, 7)):
            t = time.perf_counter()
            floors.drilldown_floor(db, pid, BENCH_TODAY)
            floor.append(time.perf_counter() - t)
            t = time.perf_counter()
            partner_detail(db, pid, BENCH_TODAY)
            ours.append(time.perf_counter() - t)
        referrals = db.execute("SELECT count(*) FROM episodes WHERE partner_id = ?",
                               [pid]).fetchone()[0]
        db.close()
        fig.ours, fig.floor = Stat(ours), Stat(floor)
        fig.met = (fig.ratio is not None and fig.ratio <= 2 and fig.ours.median < 0.05)
        fig.note = (f"the busiest partner ({referrals:,} referrals); "
                    "outcomes.reports.partners.partner_detail")
        return fig

    def dashboard_figures(self) -> tuple[Figure, Figure]:
        time_fig = Figure("dashboard first screen on the big database (whole process, headless)",
                          "minimal Textual app (Header, DataTable, Footer)", "<= 1.5x")
        mem_fig = Figure("peak memory of the dashboard on the big database",
                         "the same minimal Textual app", "<= 3x")
        try:
            import outcomes_tui.app  # noqa: F401
        except ImportError as exc:
            time_fig.note = mem_fig.note = f"not measured: the dashboard is missing ({exc})"
            return time_fig, mem_fig
        ours, floor, ours_mem, floor_mem, first = [], [], [], [], []
        shown: dict[str, Any] = {}
        for i in range(max(self.runs, 5)):
            self.log(f"dashboard run {i + 1}")
            events = self.probe("minimal", str(self.big_db))
            floor.append(events["complete"][0])
            floor_mem.append(events["complete"][1]["peak_rss_kb"] / 1024)
            events = self.probe("dashboard", str(self.big_db), BENCH_TODAY.isoformat())
            ours.append(events["complete"][0])
            ours_mem.append(events["complete"][1]["peak_rss_kb"] / 1024)
            if "first_data" in events:
                first.append(events["first_data"][0])
            shown = events["complete"][1]
        # The figure: process start to the first screen showing data (the KPI panels
        # with their numbers). The alert queue and chart fill in afterwards, in workers.
        time_fig.ours, time_fig.floor = Stat(first or ours), Stat(floor)
        time_fig.met = time_fig.ratio is not None and time_fig.ratio <= 1.5
        detail = ", ".join(f"{k} {v!s}" for k, v in shown.items()
                           if k in ("screen", "table_rows"))
        time_fig.note = (f"first data = the KPI panels showing their numbers; every panel and "
                         f"background worker done ({detail}): {Stat(ours).show()}")
        mem_fig.ours, mem_fig.floor = Stat(ours_mem, "MB"), Stat(floor_mem, "MB")
        mem_fig.met = mem_fig.ratio is not None and mem_fig.ratio <= 3
        mem_fig.note = "peak resident set (VmHWM) of each process when its first screen is complete"
        return time_fig, mem_fig

    def terminal_figures(self) -> list[Figure]:
        """The dashboard in a real terminal (tmux 160x48), process start to the complete first
        screen (KPI numbers and the alert queue's partner names), against the minimal app."""
        import shutil as _shutil

        from outcomes.dates import today
        from outcomes.demo import build_demo
        from outcomes.store.database import open_db

        from . import terminal

        figures = []
        if _shutil.which("tmux") is None or self.dataset.scale.name == "smoke":
            why = "tmux is not installed" if _shutil.which("tmux") is None else \
                "a real terminal is not timed in a smoke run"
            return [Figure("dashboard complete first screen in tmux (demo database)",
                           "minimal Textual app in tmux", "<= 1.5x",
                           note=f"not measured: {why}")]
        demo = self.fresh_db_path("demo.db")
        db = open_db(demo)
        build_demo(db, today=today())
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        terminal.compile_sources()
        tmux = terminal.Tmux()
        try:
            for label, path in (("demo", demo), ("big", self.big_db)):
                self.log(f"tmux start-up, {label} database, untimed warm-up run")
                terminal.measure(tmux, path, today())  # page cache and bytecode, both sides
                ours, floor, ours_cpu, floor_cpu = [], [], [], []
                same, same_cpu = [], []
                terminal.measure_same_screen(tmux, path)  # untimed, as the others'
                for i in range(max(self.runs, 5)):
                    self.log(f"tmux start-up, {label} database, run {i + 1}")
                    a, b, (ca, cb) = terminal.measure_with_cpu(tmux, path, today())
                    ours.append(a)
                    floor.append(b)
                    if ca is not None and cb is not None:
                        ours_cpu.append(ca)
                        floor_cpu.append(cb)
                    s, cs = terminal.measure_same_screen(tmux, path)
                    same.append(s)
                    if cs is not None:
                        same_cpu.append(cs)
                fig = Figure(f"dashboard complete first screen in tmux ({label} database)",
                             "minimal Textual app (Header, DataTable, Footer) in tmux",
                             "<= 1.5x")
                fig.ours, fig.floor = Stat(ours), Stat(floor)
                fig.met = fig.ratio is not None and fig.ratio <= 1.5
                fig.note = ("`outcomes --db DB` in tmux at 160x48, from starting the process to "
                            "a capture-pane showing the KPI numbers and the partner names of "
                            "the alert queue's first three rows as listed; bytecode compiled for "
                            "both, one untimed run of each first")
                if ours_cpu:
                    fig.note += (f"; CPU used by then (user + system, less sensitive to the "
                                 f"machine's load): ours {Stat(ours_cpu).show()}, floor "
                                 f"{Stat(floor_cpu).show()}, "
                                 f"{Stat(ours_cpu).median / Stat(floor_cpu).median:.2f}x")
                fig.note += (f"; the same screen drawn by bare Textual from static text "
                             f"(`bench/terminal.py` SAME_SCREEN_APP, not a floor): "
                             f"{Stat(same).show()}, {Stat(same).median / fig.floor.median:.2f}x "
                             "the floor")
                if same_cpu and floor_cpu:
                    fig.note += (f", CPU {Stat(same_cpu).show()}, "
                                 f"{Stat(same_cpu).median / Stat(floor_cpu).median:.2f}x")
                figures.append(fig)
        finally:
            tmux.close()
        return figures

    def scorecard_command_figure(self, evidence: bool = False) -> Figure:
        """``outcomes scorecard --json`` (``--evidence`` too with ``evidence``) for all
        partners as a whole command, minus the same command on an empty database (interpreter,
        imports, opening), against the hand-written SQL query over raw tables."""
        from outcomes.measures.catalog import instruments
        from outcomes.store.database import open_db

        fig = Figure(EVIDENCE_COMMAND_TITLE if evidence else
                     "`outcomes scorecard --json` for all partners (command minus the same "
                     "command on an empty database)", "the hand-written SQL query over raw "
                     "tables", "<= 0.5x")
        flags = ["--evidence"] if evidence else []
        if evidence:
            db = open_db(self.big_db)
            self.fit_models(db)
            db.close()
        empty = self.fresh_db_path("empty.db")
        open_db(empty).close()
        start, end = self.period
        script = Path(sys.executable).parent / "outcomes"
        command = [str(script)] if script.exists() else [sys.executable, "-m", "outcomes.cli"]

        def run(db_path: Path) -> float:
            t = time.perf_counter()
            subprocess.run([*command, "--db", str(db_path), "scorecard", "--from",
                            start.isoformat(), "--to", end.isoformat(), "--json", *flags],
                           check=True,
                           stdout=subprocess.DEVNULL, cwd=ROOT)
            return time.perf_counter() - t

        db = open_db(self.big_db)
        sql = floors.scorecard_sql(instruments())
        run(self.big_db)  # warm the page cache for both
        floors.scorecard_floor(db, sql, start, end)
        whole, bare, floor = [], [], []
        for i in range(max(self.runs, 5)):
            self.log(f"scorecard command run {i + 1}")
            bare.append(run(empty))
            whole.append(run(self.big_db))
            t = time.perf_counter()
            floors.scorecard_floor(db, sql, start, end)
            floor.append(time.perf_counter() - t)
        db.close()
        fig.ours = Stat([max(w - b, 0.0) for w, b in zip(whole, bare, strict=True)])
        fig.floor = Stat(floor)
        fig.met = fig.ratio is not None and fig.ratio <= 0.5
        fig.note = (f"whole command {Stat(whole).show()}, on an empty database "
                    f"{Stat(bare).show()}; the floor runs in process on a warm connection")
        return fig

    def responsiveness_figure(self) -> Figure:
        fig = Figure("longest interface stall while switching screens and typing filters "
                     "(big database)", "none", "<= 100 ms")
        worst: list[float] = []
        per_step: dict[str, list[float]] = {}
        collected: dict[str, list[float]] = {}
        heap: dict[str, list[float]] = {}
        for i in range(max(self.runs, 3)):
            self.log(f"responsiveness run {i + 1}")
            events = self.probe("responsiveness", str(self.big_db), BENCH_TODAY.isoformat())
            stalls = events["complete"][1]["stalls_ms"]
            visited = set(events["complete"][1]["visited"])
            expected = {"PartnersScreen", "PartnerDetailScreen", "EpisodesScreen",
                        "ImportScreen", "PacketsScreen", "DashboardScreen"}
            if not expected <= visited:  # keys that did nothing would measure nothing
                fig.note = f"not measured: the steps never reached {sorted(expected - visited)}"
                return fig
            worst.append(max(stalls.values()) / 1000)
            gc_ms = events["complete"][1].get("gc_ms", {})
            for key in ("tracked", "tracked_after_idle", "frozen", "idle_gc_ms"):
                if key in events["complete"][1]:
                    heap.setdefault(key, []).append(events["complete"][1][key])
            for step, ms in stalls.items():
                per_step.setdefault(step, []).append(ms)
                collected.setdefault(step, []).append(gc_ms.get(step, 0.0))
        fig.ours = Stat(worst)
        fig.met = fig.ours.median <= 0.1
        fig.note = "worst stall per step, median over runs: " + ", ".join(
            f"{step} {statistics.median(ms):.0f} ms" for step, ms in per_step.items())
        pauses = ", ".join(f"{step} {max(ms):.0f} ms" for step, ms in collected.items()
                           if max(ms) > 0)
        fig.note += ("; longest full garbage collection in a step (it stops every thread), "
                     f"worst over runs: {pauses or 'none'}")
        if heap.get("tracked"):
            # The heap a full collection walks (the app's frozen start-up heap is not in it),
            # after the steps and after a pause longer than the app's wait for an idle user.
            median = {k: statistics.median(v) for k, v in heap.items()}
            fig.note += (f"; objects a full collection walks after the steps "
                         f"{median['tracked']:,.0f}, after an idle pause "
                         f"{median.get('tracked_after_idle', 0):,.0f} (frozen at start-up "
                         f"{median.get('frozen', 0):,.0f}; the idle collection "
                         f"{median.get('idle_gc_ms', 0):.0f} ms, median)")
        return fig

    def packet_figure(self) -> Figure:
        fig = Figure("packet for one partner (PDF)", "none", "< 1 s")
        try:
            import outcomes.documents.packets  # noqa: F401
        except ImportError as exc:
            fig.note = f"not measured: outcomes.packets is missing ({exc})"
            return fig
        from outcomes.store.database import open_db

        work_db = self.fresh_db_path("packet.db")
        shutil.copyfile(self.big_db, work_db)
        db = open_db(work_db)
        pid = self.partner_id(db)
        db.close()
        start, end = self.period
        ours = []
        size = 0
        for i in range(max(self.runs, 3)):
            out = self.work / f"packet-{i}.pdf"
            events = self.probe("packet", str(work_db), str(pid), str(out), start.isoformat(),
                                end.isoformat(), BENCH_TODAY.isoformat())
            ours.append(events["complete"][1]["elapsed"])
            size = events["complete"][1]["bytes"]
        fig.ours = Stat(ours)
        fig.met = fig.ours.median < 1.0
        fig.note = (f"make_packet in a fresh process (cold import of fpdf2 "
                    f"included, interpreter start excluded); {size / 1024:.0f} KB PDF")
        return fig

    def prospects_figure(self) -> Figure:
        fig = Figure("NPPES prospect import", "a bare csv.reader pass over the file",
                     "<= 1.5x, constant memory")
        try:
            import outcomes.network.prospects  # noqa: F401
        except ImportError as exc:
            fig.note = f"not measured: outcomes.prospects is missing ({exc})"
            return fig
        from outcomes.importing.importer import run_import
        from outcomes.store.database import open_db

        base = self.fresh_db_path("partners-only.db")
        db = open_db(base)
        run_import(db, "partners", self.dataset.files["partners"], today=BENCH_TODAY)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        ours, floor, ours_mem, floor_mem = [], [], [], []
        report: dict[str, Any] = {}
        for i in range(self.runs):
            self.log(f"NPPES run {i + 1}/{self.runs}")
            events = self.probe("csvpass", str(self.dataset.nppes))
            floor.append(events["complete"][1]["elapsed"])
            floor_mem.append(events["complete"][1]["peak_rss_kb"] / 1024)
            work_db = self.fresh_db_path("prospects.db")
            shutil.copyfile(base, work_db)
            events = self.probe("prospects", str(work_db), str(self.dataset.nppes),
                                ",".join(NPPES_STATES), ",".join(NPPES_KINDS))
            ours.append(events["complete"][1]["elapsed"])
            ours_mem.append(events["complete"][1]["peak_rss_kb"] / 1024)
            report = events["complete"][1]["report"]
            self.log(f"  floor {floor[-1]:.2f} s, ours {ours[-1]:.2f} s")
        fig.ours, fig.floor = Stat(ours), Stat(floor)
        size_mb = self.dataset.nppes.stat().st_size / 1e6
        fig.extra["peak_rss"] = (Stat(ours_mem, "MB"), Stat(floor_mem, "MB"))
        memory_ok = statistics.median(ours_mem) < 200
        fig.met = fig.ratio is not None and fig.ratio <= 1.5 and memory_ok
        fig.note = (f"{self.dataset.counts['nppes']:,} rows, {size_mb:,.0f} MB, filter "
                    f"--state {' '.join(NPPES_STATES)} and {len(NPPES_KINDS)} kinds; peak RSS "
                    f"ours {Stat(ours_mem, 'MB').show()}, floor {Stat(floor_mem, 'MB').show()} "
                    f"(a file {size_mb:,.0f} MB large: memory does not grow with it); "
                    f"report {report}")
        return fig


def machine() -> tuple[str, str]:
    cpus = os.cpu_count() or 0
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f"{pages / 2**30:.0f} GB"
    except (ValueError, OSError):
        mem = "? GB"
    short = f"{cpus} CPU, {mem}"
    long = (f"{cpus} CPU, {mem} RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    return short, long


ANALYSIS_START, ANALYSIS_END = "<!-- analysis:start -->", "<!-- analysis:end -->"


def kept_analysis(path: Path) -> str:
    """The hand-written analysis section of an earlier report (kept across runs)."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    if ANALYSIS_START not in text or ANALYSIS_END not in text:
        return ""
    start = text.index(ANALYSIS_START)
    return text[start: text.index(ANALYSIS_END) + len(ANALYSIS_END)]


def render(figures: list[Figure], dataset: Dataset, runs: int, seconds: float,
           smoke: bool, analysis: str = "") -> str:
    short, long = machine()
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench.run`); do not edit by hand." if not smoke else
        "A smoke run on a tiny dataset (`python -m bench.run --smoke`): the numbers mean "
        "nothing.",
        "",
        f"Run on {date.today().isoformat()} on {long}; dataset `{dataset.scale.name}` "  # noqa: DTZ011
        f"(seed {dataset.seed}): {_counts(dataset)}. Each figure is the median of {runs} or "
        f"more runs (min–max in brackets); each floor was measured in the same run, "
        f"interleaved with ours. Ratio = ours / floor. Whole run: {seconds / 60:.1f} min.",
        "",
        "| figure | ours | floor | ratio | target | machine |",
        "|---|---|---|---|---|---|",
    ]
    for fig in figures:
        if fig.ours is None:
            ours = fig.note or "not measured"
            floor = ratio = "—"
        else:
            ours = fig.ours.show()
            floor = f"{fig.floor.show()} ({fig.floor_name})" if fig.floor else fig.floor_name
            ratio = f"{fig.ratio:.2f}x" if fig.ratio is not None else "—"
        verdict = "" if fig.met is None or smoke else (" (met)" if fig.met else " (**not met**)")
        if fig.ours is None:
            floor = f"— ({fig.floor_name})"
        lines.append(f"| {fig.name} | {ours} | {floor} | {ratio} | "
                     f"{fig.target}{verdict} | {short} |")
    lines += ["", "## Notes per figure", ""]
    for fig in figures:
        lines.append(f"- **{fig.name}**: {fig.note or '—'}")
    if analysis:
        lines += ["", analysis]
    lines += ["", METHOD]
    return "\n".join(lines) + "\n"


def _counts(dataset: Dataset) -> str:
    c = dataset.counts
    return (f"{c['partners']:,} partners, {c['referrals']:,} episodes "
            f"({c.get('patients', 0):,} patients), {c['responses']:,} outcome responses, "
            f"{c['nps']:,} NPS answers, {c['touchpoints']:,} touchpoints, "
            f"{c['outbound']:,} outbound referrals, {c['nppes']:,} NPPES rows")


METHOD = """## How each figure is measured

- **Data**: `bench/generate.py` writes the CSV files a clinic imports (partners, referrals,
  touchpoints, outbound, responses, nps) and a synthetic NPPES file with the real 330-column
  header, from one seed (same seed, same bytes), cached in `bench/data/`. Partner volumes are
  skewed (Zipf: the busiest partner sends about 15% of patients); 5% of dates are in US form
  (MM/DD/YYYY); answers lie in each instrument's item ranges. The big database is the dataset
  imported through `outcomes.importing.importer.run_import` (the last import run is kept).
- **CSV import, per kind and whole**: ours is `run_import` (the bulk engine: full validation,
  scoring, the outcome summary, one transaction per file) for each kind in order into a new
  database. The floor (`bench/floors.py`, `import_floor_kind`) reads the same file with
  `csv.reader` and streams it into one `executemany` per table in one transaction, into the
  same schema with the roll-up triggers dropped, mapping only the keys the schema needs (NPI to
  partner id, record number to patient id); it parses no date, scores nothing and keeps no
  summary. Floor and ours alternate kind by kind, each into its own database; the whole is the
  sum of the kinds. Before the timed runs each imports the partners file once, untimed, so
  that loading the import's modules (once per process, whatever the file's size) is not
  counted against a 400-row file, as the floor's modules are not. The partners file (~10 ms)
  is then imported 12 more times alone, floor and ours alternating, each into new databases,
  so that its median rests on 15 samples instead of 3; the whole keeps the runs' sums.
- **Peak memory of the responses import**: `python -m bench.probe importmem` runs ours or the
  floor in a fresh process on a copy of the database as it stands before the responses import,
  on the whole responses file and on its first tenth; the figure is each process's VmHWM.
  "Flat" means the whole file's peak is at most 1.25 times the tenth's.
- **Scorecard**: `outcomes.reports.scorecard.scorecard(db, start, end)` for the last 12 months, in
  process, after one warm-up call. The floor is one hand-written SQL query over `episodes`,
  `responses` (scores as JSON) and `nps_responses` that derives intake/final pairs itself
  (`bench/floors.py`); it computes no medians and no confidence intervals.
- **Scorecard with evidence**: the same call with `evidence=True` (each block's Kaplan-Meier
  time to recovery and observed minus expected per measure), and `outcomes scorecard --json
  --evidence` as a command, timed as the rows above against the same floor (which computes
  neither figure). The risk models are fitted once on the big database first
  (`outcomes.reports.adjusted.fit_models`), as a clinic would before reading them. **With time
  to recovery**: the same call with `recovery=True` (`--recovery`: the Kaplan-Meier half only).
- **Drill-down**: `outcomes.reports.partners.partner_detail` for the busiest partner, warm,
  against the same content read with plain SQL (monthly referrals, outcomes per scale for
  the partner and the clinic, NPS, the latest rows of each list).
- **Dashboard first screen**: `python -m bench.probe dashboard DB TODAY` starts the real app
  (`outcomes_tui.app.make_app`) with Textual's `run_test()` at 120x40 in a fresh process. The
  parent times from starting the process to the probe's line saying the first screen shows its
  data: it polls with `pilot.pause()` until the KPI panels are filled and every worker (summary,
  alerts, chart) has finished. The floor is a minimal app (Header, DataTable, Footer) that
  reads 100 partners from the same database and shows them, timed the same way. Peak memory is
  the peak resident set (VmHWM) of each process at that moment.
- **Dashboard in tmux** (`bench/terminal.py`): `outcomes --db DB` started in a new session of a
  private tmux server at 160x48; the time runs from starting the session to the first
  `capture-pane` (polled every 10 ms) that shows the KPI numbers (no `…` placeholder left) and
  the partner names of the alert queue's first three rows as the dashboard lists them (the
  whole queue of today, each kind's first five rows, the most urgent kind first). The floor is
  a minimal Textual app (Header, DataTable, Footer) showing 100 partners, timed the same way
  until its first partner's name is on screen. On the demo database (built for today) and on
  the big one. Our modules are compiled to bytecode first (`compileall` over `src` and
  `tui`, as a wheel install does; the floor's Textual is installed and compiled already), and
  one untimed run of each precedes the timed ones.
- **`outcomes scorecard --json`**: the whole command for all partners and the last 12 months,
  as a subprocess with its output discarded, minus the same command on an empty database (so
  interpreter start, imports and opening are left out); the floor is the hand-written SQL above,
  in process on a warm connection.
- **Packet**: `outcomes.documents.packets.make_packet` for the busiest partner, last 12 months,
  PDF, in a fresh process (so the first-use imports of fpdf2 and matplotlib count), on a copy
  of the big database.
- **NPPES prospect import**: `outcomes.prospects.import_prospects` in a fresh process, on a
  database holding only the partners, against a bare `csv.reader` pass over the same file in a
  fresh process; peak RSS of each.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a tiny dataset, one run each")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the report (default docs/benchmarks.md; "
                             "bench/out/benchmarks-smoke.md with --smoke)")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--only", default=None,
                        help="comma-separated: import,scorecard,drilldown,dashboard,"
                             "terminal,scorecard-command,recovery,evidence,evidence-command,"
                             "responsiveness,packet,prospects")
    args = parser.parse_args(argv)
    scale = SMOKE if args.smoke else FULL
    runs = args.runs or (1 if args.smoke else 3)
    out = args.out or (ROOT / "bench/out/benchmarks-smoke.md" if args.smoke
                       else ROOT / "docs/benchmarks.md")
    started = time.perf_counter()

    def log(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {text}", file=sys.stderr, flush=True)

    log(f"dataset {scale.name}")
    dataset = generate(scale, args.seed, args.data_dir, log=log)
    work = (args.data_dir or ROOT / "bench" / "out") / f"work-{scale.name}"
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(dataset, work, runs, log)
    only = set(args.only.split(",")) if args.only else None
    figures: list[Figure] = []
    if only is None or "import" in only:
        figures.extend(bench.import_figures())
        figures.append(bench.import_memory_figure())
        # The last import run is the big database the other figures read.
        ours = work / "ours.db"
        if ours.exists():
            for suffix in ("-wal", "-shm"):
                Path(f"{bench.big_db}{suffix}").unlink(missing_ok=True)
            shutil.move(ours, bench.big_db)
            mark_built(dataset, bench.big_db)
    build_database(dataset, bench.big_db)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("scorecard", bench.scorecard_figure), ("drilldown", bench.drilldown_figure),
        ("dashboard", bench.dashboard_figures), ("terminal", bench.terminal_figures),
        ("scorecard-command", bench.scorecard_command_figure),
        ("recovery", lambda: bench.scorecard_figure(recovery=True)),
        ("evidence", bench.evidence_figure),
        ("evidence-command", lambda: bench.scorecard_command_figure(evidence=True)),
        ("responsiveness", bench.responsiveness_figure), ("packet", bench.packet_figure),
        ("prospects", bench.prospects_figure),
    ]
    for name, step in steps:
        if only is not None and name not in only:
            continue
        log(f"measuring {name}")
        try:
            result = step()
        except Exception as exc:  # a broken feature is reported, never faked
            log(f"{name} failed: {exc}")
            result = _failed(name, exc)
        figures.extend(result if isinstance(result, (tuple, list)) else [result])
    seconds = time.perf_counter() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(figures, dataset, runs, seconds, args.smoke, kept_analysis(out)),
                   encoding="utf-8")
    log(f"wrote {out}")
    for fig in figures:
        ours = fig.ours.show() if fig.ours else "—"
        ratio = f"{fig.ratio:.2f}x" if fig.ratio is not None else ""
        print(f"{fig.name}: {ours} {ratio} {fig.target} "
              f"{'met' if fig.met else 'NOT MET' if fig.met is False else ''}")
    return 0


RECOVERY_TITLE = ("scorecard with time to recovery (`--recovery`) for all partners "
                  "(in-process, warm)")
EVIDENCE_TITLE = ("scorecard with evidence (time to recovery, observed minus expected) for all "
                  "partners (in-process, warm)")
EVIDENCE_COMMAND_TITLE = ("`outcomes scorecard --json --evidence` for all partners (command "
                          "minus the same command on an empty database)")


def _failed(name: str, exc: Exception) -> Any:
    names = {
        "scorecard": ("scorecard for all partners (in-process, warm)",
                      "best hand-written single SQL query over raw tables", "<= 0.5x"),
        "drilldown": ("one partner's drill-down (monthly referrals, outcomes)",
                      "hand-written SQL for the same content", "<= 2x and < 50 ms"),
        "packet": ("packet for one partner (PDF)", "none", "< 1 s"),
        "responsiveness": ("longest interface stall while switching screens and typing "
                           "filters (big database)", "none", "<= 100 ms"),
        "prospects": ("NPPES prospect import", "a bare csv.reader pass over the file",
                      "<= 1.5x, constant memory"),
    }
    detail = " ".join(str(exc).split())[:160]  # one line: it goes in a table cell
    why = f"not measured: it failed ({type(exc).__name__}: {detail})"
    if name == "terminal":
        return [Figure("dashboard complete first screen in tmux (demo database)",
                       "minimal Textual app in tmux", "<= 1.5x", note=why)]
    if name == "evidence":
        return Figure(EVIDENCE_TITLE, "best hand-written single SQL query over raw tables",
                      "<= 0.5x", note=why)
    if name == "evidence-command":
        return Figure(EVIDENCE_COMMAND_TITLE, "the hand-written SQL query over raw tables",
                      "<= 0.5x", note=why)
    if name == "scorecard-command":
        return Figure("`outcomes scorecard --json` for all partners (command minus the same "
                      "command on an empty database)", "the hand-written SQL query over raw "
                      "tables", "<= 0.5x", note=why)
    if name == "dashboard":
        return (Figure("dashboard first screen on the big database (whole process, headless)",
                       "minimal Textual app (Header, DataTable, Footer)", "<= 1.5x", note=why),
                Figure("peak memory of the dashboard on the big database",
                       "the same minimal Textual app", "<= 3x", note=why))
    title, floor, target = names[name]
    return Figure(title, floor, target, note=why)


if __name__ == "__main__":
    raise SystemExit(main())
