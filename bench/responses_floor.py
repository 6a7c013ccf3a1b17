"""How far a responses import can go in one CPython process: the least per-row Python it must
do, timed on the same file as the import floor (issue 14).

    python -m bench.responses_floor --db BEFORE.db --csv responses.csv [--runs 3] [--rows N]

``BEFORE.db`` is a database as it stands before the responses import (partners, referrals,
touchpoints, outbound imported); every stage works on its own copy. Stages, interleaved run by
run (the machine is shared, so ratios are taken within a run):

- ``floor``: ``bench.floors`` for responses (csv.reader + one executemany into ``responses``,
  no triggers, no validation, no scoring, no summary).
- ``read``: the csv.reader pass alone.
- ``python``: what no import of ours can skip, with nothing else: the csv.reader pass, for an
  answers cell its split and ``int()`` per item, the published formula (each scale's sum of
  its items, then its one float operation), and per episode its summary rows (first intake,
  last discharge or carried progress, improvement, MCID reached, time to recovery with each
  distinct date parsed once). No validation (no range check, no message), no storage, no
  episode look-up (condition group, primary measure), no duplicate keys.
- ``python+store``: ``python`` plus the two writes the import must make: the responses
  (the floor's insert, with the scores JSON, made once per distinct set of scores) and the
  summary rows (``episode_outcomes``, no triggers, its secondary indexes dropped as the bulk
  import drops them), one transaction.
- ``numpy``: the scoring step alone two ways on the same cells, per row in Python (split,
  ``int()``, sum) against numpy (each instrument's cells joined, parsed by ``np.fromstring``,
  reshaped, summed per row): whether leaving Python for the arithmetic would pay.
- ``ours``: ``run_import`` (the bulk engine, full validation and scoring).

The ratio of ``python+store`` to ``floor`` is a lower bound for any one-process CPython import
that validates nothing: when it is near the target, the target is out of reach.
"""

from __future__ import annotations

import argparse
import csv
import functools
import gc
import itertools
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from bench.floors import drop_triggers, import_floor_kind
from bench.generate import BENCH_TODAY
from outcomes.dates import now_iso
from outcomes.measures import catalog
from outcomes.measures.instruments import Direction, Instrument

# One scale's published formula: (scale id, item positions or None for all, recode per item or
# None, method, n items, extra constant), as scoring._score_scale applies it to full answers.
_Plan = tuple[str, Any, Any, str, int, Any]


def _plans(instrument: Instrument) -> list[_Plan]:
    position = {item.id: k for k, item in enumerate(instrument.items)}
    plans: list[_Plan] = []
    for scale_id, scale in instrument.scales.items():
        places = [position[i] for i in scale.items]
        members = [instrument.items[k] for k in places]
        recode = ([m.recode or {} for m in members]
                  if any(m.recode for m in members) else None)
        extra: Any = None
        if scale.method == "percent_of_max":
            extra = (sum(m.min for m in members), sum(m.max - m.min for m in members))
        elif scale.method == "lookup":
            extra = scale.lookup
        plans.append((scale_id, None if places == list(range(len(position))) else places,
                      recode, scale.method, len(places), extra))
    return plans


def _scores(plans: list[_Plan], answers: list[int]) -> dict[str, float]:
    scores = {}
    for scale_id, places, recode, method, n, extra in plans:
        chosen = answers if places is None else [answers[k] for k in places]
        if recode is not None:
            chosen = [r.get(a, a) for r, a in zip(recode, chosen, strict=True)]
        total = sum(chosen)
        if method == "percent_of_max":
            score = 100.0 * (total - extra[0]) / extra[1]
        elif method == "dash":
            score = (total / n - 1.0) * 25.0
        elif method == "mean":
            score = total / n
        elif method == "lookup":
            score = extra[total]
        else:
            score = float(total)
        scores[scale_id] = score
    return scores


# A scale's rule for the summary: (higher is better, MCID unit or None, MCID value).
def _rules() -> dict[str, tuple[bool, str | None, float]]:
    rules = {}
    for instrument in catalog.instruments().values():
        for scale_id, scale in instrument.scales.items():
            mcid = scale.mcid
            rules[scale_id] = (scale.direction is Direction.HIGHER_IS_BETTER,
                               None if mcid is None else mcid.unit,
                               0.0 if mcid is None else mcid.value)
    return rules


def _reached(unit: str, value: float, intake: float, gain: float) -> bool:
    if unit == "points":
        return gain >= value - 1e-9
    return intake != 0 and gain > 0 and gain >= value * abs(intake) / 100.0 - 1e-9


def _rows(path: Path, limit: int | None) -> Iterator[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        yield from itertools.islice(reader, limit)


def least_python(path: Path, limit: int | None,
                 write: Callable[[list[tuple[Any, ...]], list[tuple[Any, ...]]], None] | None
                 = None) -> int:
    """The ``python`` stage (``write``: the ``python+store`` stage's writer, given each batch
    of response rows and summary rows). Returns the number of summary rows made."""
    known = catalog.instruments()
    plans = {iid: _plans(instrument) for iid, instrument in known.items()}
    only_scale = {iid: next(iter(i.scales)) for iid, i in known.items() if len(i.scales) == 1}
    rules = _rules()
    days: dict[str, date] = {}
    encoded: dict[tuple[str, tuple[float, ...]], str] = {}
    now = now_iso()
    made = 0
    responses: list[tuple[Any, ...]] = []
    summary: list[tuple[Any, ...]] = []

    def summarise(episode: str, by_scale: dict[tuple[str, str], list[tuple[str, str, float]]]
                  ) -> None:
        for (instrument, scale_id), scored in by_scale.items():
            intake = final = progress = None
            for s in scored:
                if s[0] == "intake":
                    if intake is None:
                        intake = s
                elif s[0] == "discharge":
                    final = s
                elif s[0] == "progress":
                    progress = s
            if final is None:
                final = progress
            improvement = mcid = recovery = None
            higher, unit, value = rules[scale_id]
            if intake is not None and final is not None:
                change = final[2] - intake[2]
                improvement = change if higher else -change
                if unit is not None:
                    mcid = _reached(unit, value, intake[2], improvement)
            if intake is not None and unit is not None:
                start = days.get(intake[1]) or days.setdefault(intake[1],
                                                               date.fromisoformat(intake[1]))
                for timepoint, when, score in scored:
                    if timepoint == "intake":
                        continue
                    day = days.get(when) or days.setdefault(when, date.fromisoformat(when))
                    change = score - intake[2]
                    recovery = (day - start).days
                    if _reached(unit, value, intake[2], change if higher else -change):
                        break
            summary.append((episode, scale_id, instrument, intake and intake[2],
                            intake and intake[1], final and final[2], final and final[1],
                            improvement, mcid, recovery))

    current = None
    by_scale: dict[tuple[str, str], list[tuple[str, str, float]]] = {}
    for episode, instrument, timepoint, when, answers_text, score_text in _rows(path, limit):
        if episode != current:
            if current is not None:
                summarise(current, by_scale)
                by_scale = {}
            current = episode
            if write is not None and len(responses) >= 5_000:
                write(responses, summary)
                made += len(summary)
                responses, summary = [], []
        if answers_text:
            try:
                answers = list(map(int, answers_text.split(";")))
            except ValueError:
                # A skipped item ("-", a few rows in a thousand): the published rules prorate
                # or refuse; counted here as a 0, the same work as a plain row.
                answers = [int(t) if t.strip("-") else 0 for t in answers_text.split(";")]
            scores = _scores(plans[instrument], answers)
        else:
            scores = {only_scale[instrument]: float(score_text)}
        for scale_id, score in scores.items():
            listed = by_scale.get((instrument, scale_id))
            if listed is None:
                listed = by_scale[(instrument, scale_id)] = []
            listed.append((timepoint, when, score))
        if write is not None:
            key = (instrument, tuple(scores.values()))
            scores_json = encoded.get(key)
            if scores_json is None:
                scores_json = encoded[key] = json.dumps(scores)
            responses.append((episode, instrument, "1", timepoint, when,
                              answers_text or None, scores_json, now))
    if current is not None:
        summarise(current, by_scale)
    if write is not None:
        write(responses, summary)
    return made + len(summary)


def _store(conn: Any) -> Callable[[list[tuple[Any, ...]], list[tuple[Any, ...]]], None]:
    def write(responses: list[tuple[Any, ...]], summary: list[tuple[Any, ...]]) -> None:
        conn.executemany(
            "INSERT INTO responses (episode_id, instrument, instrument_version, timepoint,"
            " date, answers, scores, scorable, created_at) VALUES (?,?,?,?,?,?,?,1,?)",
            responses)
        conn.executemany(
            "INSERT INTO episode_outcomes (episode_id, scale, instrument, intake_score,"
            " intake_date, final_score, final_date, improvement, mcid_met, recovery_days,"
            " referral_date, carried_forward, is_primary) VALUES (?,?,?,?,?,?,?,?,?,?,'',0,0)",
            summary)
    return write


def numpy_scoring(path: Path, limit: int | None) -> tuple[float, float, bool]:
    """(seconds per row in Python, seconds with numpy, same totals) for the sum of each
    answers cell, the cells grouped per instrument beforehand (not timed)."""
    import numpy as np

    cells: dict[str, list[str]] = {}
    for _e, instrument, _t, _d, answers_text, _s in _rows(path, limit):
        # Complete cells only (a skipped item leaves the vectorised path in any design).
        if answers_text and "-" not in answers_text and ";;" not in answers_text:
            cells.setdefault(instrument, []).append(answers_text)
    t = time.perf_counter()
    python = {i: [sum(map(int, text.split(";"))) for text in texts]
              for i, texts in cells.items()}
    in_python = time.perf_counter() - t
    t = time.perf_counter()
    vectorised = {}
    for i, texts in cells.items():
        width = texts[0].count(";") + 1
        values = np.array(";".join(texts).split(";"), dtype=np.int64)
        vectorised[i] = values.reshape(-1, width).sum(axis=1)
    with_numpy = time.perf_counter() - t
    same = all(list(vectorised[i]) == python[i] for i in cells)
    return in_python, with_numpy, same


def _copy(db: Path, work: Path, name: str) -> Path:
    target = work / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(db, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True,
                        help="a database as it stands before the responses import")
    parser.add_argument("--csv", type=Path, required=True, help="the responses file")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=None, help="only the first N rows")
    parser.add_argument("--skip-ours", action="store_true")
    args = parser.parse_args(argv)
    from outcomes.importing.importer import run_import
    from outcomes.store.database import open_db

    path = args.csv
    if args.rows is not None:
        cut = Path(tempfile.mkdtemp()) / "responses.csv"
        with args.csv.open(encoding="utf-8") as src, cut.open("w", encoding="utf-8") as out:
            out.writelines(itertools.islice(src, args.rows + 1))
        path = cut
    work = Path(tempfile.mkdtemp(prefix="responses-floor-"))
    times: dict[str, list[float]] = {k: [] for k in ("floor", "read", "python", "python+store",
                                                     "ours")}

    def timed(stage: str, run: Callable[[], Any]) -> None:
        gc.collect()
        t = time.perf_counter()
        run()
        times[stage].append(time.perf_counter() - t)
        print(f"  {stage}: {times[stage][-1]:.2f} s", flush=True)

    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs}", flush=True)
        floor_db = open_db(_copy(args.db, work, "floor.db"))
        drop_triggers(floor_db)
        timed("floor", functools.partial(import_floor_kind, floor_db, path, "responses"))
        floor_db.close()
        timed("read", lambda: sum(1 for _ in _rows(path, None)))
        timed("python", lambda: least_python(path, None))
        store_db = open_db(_copy(args.db, work, "store.db"))
        drop_triggers(store_db)
        for (name,) in store_db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                " AND tbl_name = 'episode_outcomes'").fetchall():
            store_db.execute(f'DROP INDEX "{name}"')
        conn = store_db.conn

        def stored(conn: Any = conn) -> None:
            conn.execute("BEGIN IMMEDIATE")
            least_python(path, None, _store(conn))
            conn.execute("COMMIT")

        timed("python+store", stored)
        store_db.close()
        if not args.skip_ours:
            ours_db = open_db(_copy(args.db, work, "ours.db"))
            timed("ours", functools.partial(run_import, ours_db, "responses", path,
                                            today=BENCH_TODAY))
            ours_db.close()
    in_python, with_numpy, same = numpy_scoring(path, None)
    shutil.rmtree(work)
    floor = times["floor"]
    print("\n| stage | seconds, median (min-max) | per run / floor, min-max |")
    print("|---|---|---|")
    for stage, values in times.items():
        if not values:
            continue
        ratios = [v / f for v, f in zip(values, floor, strict=True)]
        print(f"| {stage} | {statistics.median(values):.2f} ({min(values):.2f}-"
              f"{max(values):.2f}) | {min(ratios):.2f}-{max(ratios):.2f}x |")
    print(f"\nsum of each answers cell: per row in Python {in_python:.2f} s, numpy "
          f"{with_numpy:.2f} s, same totals: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
