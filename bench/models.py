"""Time the risk-model fit and the time-to-recovery curves on the benchmark's large database.

    python -m bench.models            # the full dataset (250,000 episodes), no NPPES file
    python -m bench.models --smoke    # a tiny dataset, to check the script

Builds (or reuses) the big database the way ``bench.run`` does, then measures, each the
median of ``--runs`` runs (min-max in brackets):

- ``outcomes model fit`` for every measure, in process on a copy of the database (the fit
  reads the episodes, fits, cross-validates, calibrates and stores one model per measure);
- time to recovery for every partner and the clinic over the last 12 months
  (``recovery_by_partner``), warm, beside the scorecard for the same period, warm;
- ``observed minus expected`` for every partner on one measure (``adjusted_by_partner``).

Prints one line per figure for docs/benchmarks.md; the lead folds it into ``bench.run``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.generate import BENCH_TODAY, FULL, SMOKE, build_database, generate

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, float, float, Any]:
    """(median, min, max wall-clock seconds, median CPU seconds of this process, result).
    The CPU time is printed too: on a shared machine it shows the work apart from the wait
    for a core."""
    times = []
    cpu = []
    result = None
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), min(times), max(times), statistics.median(cpu), result


def show(label: str, figure: tuple[float, float, float, float, Any], note: str = "") -> None:
    median, lo, hi, cpu, _ = figure
    print(f"{label}: {median:.2f} s ({lo:.2f}-{hi:.2f}), CPU {cpu:.2f} s{note}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.models", description=__doc__)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    scale = SMOKE if args.smoke else FULL
    dataset = generate(scale, 2026, args.data_dir, nppes=False,
                       log=lambda t: print(t, file=sys.stderr, flush=True))
    work = (args.data_dir or ROOT / "bench" / "out") / f"work-models-{scale.name}"
    work.mkdir(parents=True, exist_ok=True)
    big = build_database(dataset, work / "big.db")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)

    from outcomes import periods
    from outcomes.reports import adjusted, recovery
    from outcomes.reports.scorecard import scorecard
    from outcomes.store.database import open_db

    copy = work / "fit.db"
    shutil.copy(big, copy)
    db = open_db(copy)
    try:
        episodes = db.execute("SELECT count(*) FROM episodes").fetchone()[0]
        pairs = adjusted.measured_scales(db)
        fit = timed(lambda: adjusted.fit_models(db), args.runs)
        models = fit[4].models
        show("model fit, every measure", fit,
             f"; {episodes:,} episodes, pairs per measure "
             + ", ".join(f"{s} {n:,}" for s, n in pairs)
             + "; validates: " + ", ".join(f"{m.scale} {'yes' if m.validates else 'no'}"
                                           for m in models))
        period = periods.default_period(BENCH_TODAY)
        recovery.recovery_by_partner(db, period)
        km = timed(lambda: recovery.recovery_by_partner(db, period), args.runs)
        clinic = km[4][recovery.CLINIC]
        show("time to recovery, every partner and the clinic (warm)", km,
             f"; clinic n {clinic.n:,}, median {clinic.median_days} days")
        scorecard(db, period.start, period.end)
        card = timed(lambda: scorecard(db, period.start, period.end), args.runs)
        show("scorecard, same period (warm), for comparison", card)
        scale_id = max(pairs, key=lambda kv: kv[1])[0]
        omx = timed(lambda: adjusted.adjusted_by_partner(db, scale_id, period), args.runs)
        show(f"observed minus expected, every partner, {scale_id} (warm)", omx)
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
