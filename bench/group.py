"""Group edition figures (issue 15): the sync of the benchmark's clinic to PostgreSQL and the
group scorecard over several copies of it, each beside a hand-written floor measured in the
same run. Writes its own section of docs/benchmarks.md (between ``<!-- group:start -->`` and
``<!-- group:end -->``, inside the hand-written analysis part that ``python -m bench.run``
keeps), so the two scripts never overwrite each other.

``python -m bench.group [--smoke] [--pg URL] [--copies 4] [--runs 3] [--out FILE]``

Without ``--pg`` it starts a throwaway PostgreSQL server (as the tests do, fsync off).
Each copy is the benchmark's clinic database (``bench.generate``, imported through the app's
importer) with its own ``clinic_id`` and 3 evidence packets logged per referring partner (the
generator logs none, and the scorecard's packet effect reads them).

Floors, the least the machine can do for the same job:
- first sync: the same records read from SQLite (same columns, patients joined) and written
  into tables of the same shape and keys with COPY, in one transaction: no hashing, no
  upserts, no batches, no change log;
- sync with nothing new: connect, read the clinic's position, read the local change log's end;
- incremental sync: the changed records' rows read and written with COPY into an empty table;
- group scorecard: hand-written SQL over the same tables and joins that computes per-partner
  counts and sums only (no medians, no per-clinic breakdown, no funnel, no packet effect): less
  than the scorecard needs, so a true lower bound.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from .generate import BENCH_TODAY, FULL, SMOKE, Scale, build_database, generate

ROOT = Path(__file__).resolve().parent.parent
GROUP_START = "<!-- group:start -->"
GROUP_END = "<!-- group:end -->"
ANALYSIS_END = "<!-- analysis:end -->"
SECRET = b"bench-group-secret-0123456789abcdef"
MEDIUM = Scale("medium", partners=200, episodes=60_000, years=6, nps=36_000, outbound=1_500,
               nppes_rows=0)
SCALES = {s.name: s for s in (FULL, MEDIUM, SMOKE)}

FLOOR_SCHEMA = """
DROP SCHEMA IF EXISTS floor CASCADE;
CREATE SCHEMA floor;
CREATE TABLE floor.episodes (
    clinic_id text NOT NULL, id text NOT NULL, partner_id bigint, referral_date date NOT NULL,
    body_region text, status text NOT NULL, first_visit_date date, discharge_date date,
    visits integer, record_number text, birth_date date, sex text, scheduled boolean,
    self_discharged boolean, reason text, PRIMARY KEY (clinic_id, id));
CREATE INDEX ON floor.episodes (referral_date);
CREATE TABLE floor.episode_outcomes (
    clinic_id text NOT NULL, episode_id text NOT NULL, scale text NOT NULL,
    instrument text NOT NULL, partner_id bigint, referral_date date NOT NULL,
    intake_score double precision, final_score double precision, carried_forward integer,
    improvement double precision, mcid_met integer, condition_group text, procedure text,
    surgical integer, is_primary integer, PRIMARY KEY (clinic_id, episode_id, scale));
CREATE TABLE floor.nps_responses (
    clinic_id text NOT NULL, id bigint NOT NULL, episode_id text, date date NOT NULL,
    score integer NOT NULL, PRIMARY KEY (clinic_id, id));
CREATE TABLE floor.changed (entity text, key text, row text);
"""

_FLOOR_READS = {
    "episodes": "SELECT e.id, e.partner_id, e.referral_date, e.body_region, e.status,"
                " e.first_visit_date, e.discharge_date, e.visits, p.record_number, p.birth_date,"
                " p.sex, e.scheduled_date IS NOT NULL, e.discharge_reason = 'self_discharged',"
                " e.status_reason FROM episodes e JOIN patients p ON p.id = e.patient_id",
    "episode_outcomes": "SELECT episode_id, scale, instrument, partner_id, referral_date,"
                        " intake_score, final_score, carried_forward, improvement, mcid_met,"
                        " condition_group, procedure, surgical, is_primary"
                        " FROM episode_outcomes",
    "nps_responses": "SELECT id, episode_id, date, score FROM nps_responses",
}

_FLOOR_SCORECARD = [
    """SELECT cp.partner_id, count(*), count(e.first_visit_date),
              count(*) FILTER (WHERE e.status = 'discharged')
       FROM episodes e LEFT JOIN clinic_partners cp
         ON cp.clinic_id = e.clinic_id AND cp.local_id = e.partner_local_id
       WHERE e.referral_date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    """SELECT cp.partner_id, o.scale, o.carried_forward, count(*), sum(o.intake_score),
              sum(o.final_score), sum(o.improvement), sum(o.mcid_met), count(o.mcid_met)
       FROM episode_outcomes o LEFT JOIN clinic_partners cp
         ON cp.clinic_id = o.clinic_id AND cp.local_id = o.partner_local_id
       WHERE o.referral_date BETWEEN %(start)s AND %(end)s AND o.intake_score IS NOT NULL
         AND o.final_score IS NOT NULL GROUP BY 1, 2, 3""",
    """SELECT cp.partner_id, count(*) FILTER (WHERE n.score >= 9),
              count(*) FILTER (WHERE n.score BETWEEN 7 AND 8),
              count(*) FILTER (WHERE n.score <= 6)
       FROM nps_responses n
       LEFT JOIN episodes e ON e.clinic_id = n.clinic_id AND e.episode_key = n.episode_key
       LEFT JOIN clinic_partners cp
         ON cp.clinic_id = e.clinic_id AND cp.local_id = e.partner_local_id
       WHERE n.date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
]


class Stat:
    def __init__(self, values: list[float]) -> None:
        self.values = values

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self) -> str:
        lo, hi = min(self.values), max(self.values)

        def one(v: float) -> str:
            return f"{v * 1000:.1f} ms" if self.median < 1 else f"{v:.2f} s"

        if len(self.values) == 1:
            return one(self.values[0])
        return f"{one(self.median)} ({one(lo)}–{one(hi)})"


def _timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


@contextlib.contextmanager
def _server(url: str | None) -> Iterator[Callable[[str], str]]:
    """A function giving the URL of a new, empty database on the server."""
    import psycopg

    if url is not None:
        base = url
        ctx: Any = contextlib.nullcontext()
    else:
        sys.path.insert(0, str(ROOT))
        from tests.group.pgserver import running_server

        ctx = running_server()
    with ctx as server:
        admin = base if url is not None else server.url()

        def fresh(name: str) -> str:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
                conn.execute(f"CREATE DATABASE {name}")
            if url is not None:
                return base.rsplit("/", 1)[0] + "/" + name
            return str(server.url(name))

        yield fresh


def _make_copies(big: Path, work: Path, copies: int) -> list[Path]:
    from outcomes.network.communications import log_communication
    from outcomes.store import settings
    from outcomes.store.database import open_db, transaction

    paths = []
    for i in range(copies):
        path = work / f"clinic{i + 1}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copy(big, path)
        db = open_db(path)
        settings.set_value(db, "clinic_id", f"clinic{i + 1}")
        settings.set_value(db, "clinic_name", f"Benchmark clinic {i + 1}")
        partners = [pid for (pid,) in db.execute(
            "SELECT DISTINCT partner_id FROM episodes WHERE partner_id IS NOT NULL")]
        with transaction(db):
            for n, pid in enumerate(partners):
                for k in range(3):
                    day = BENCH_TODAY - timedelta(days=30 + (n * 37 + k * 151 + i * 11) % 900)
                    log_communication(db, pid, {"kind": "packet", "channel": "email",
                                                "date": day}, today=BENCH_TODAY)
        db.close()
        paths.append(path)
    return paths


def _sync_file(path: Path, url: str) -> Any:
    """Ours, as a clinic runs it: open the database, sync, close (the floors open it too)."""
    from outcomes.group.sync import sync
    from outcomes.store.database import open_db

    db = open_db(path)
    try:
        return sync(db, url, secret=SECRET)
    finally:
        db.close()


def _floor_copy(url: str, path: Path, clinic_id: str) -> int:
    """The first-sync floor: every record COPYed into same-shaped tables, one transaction."""
    import psycopg

    from outcomes.store.database import open_db

    db = open_db(path)
    rows = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table, sql in _FLOOR_READS.items():
            with cur.copy(f"COPY floor.{table} FROM STDIN") as copy:
                for row in db.execute(sql):
                    copy.write_row((clinic_id, *row))
                    rows += 1
    db.close()
    return rows


def _floor_reset(url: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(FLOOR_SCHEMA)


def _floor_nothing_new(url: str, path: Path, clinic_id: str) -> None:
    import psycopg

    from outcomes.store.database import open_db

    db = open_db(path)
    with psycopg.connect(url) as conn:
        conn.execute("SELECT last_seq FROM clinics WHERE clinic_id = %s", [clinic_id])
    db.execute("SELECT max(seq) FROM change_log").fetchone()
    db.close()


def _change(path: Path, round_: int, n_episodes: int, n_nps: int) -> list[str]:
    """An ordinary day's edits at a busy clinic, different rows each round; returns the
    episode ids changed."""
    from outcomes.store.database import open_db, transaction

    db = open_db(path)
    ids = [e for (e,) in db.execute("SELECT id FROM episodes ORDER BY id LIMIT ? OFFSET ?",
                                    [n_episodes, round_ * n_episodes])]
    with transaction(db):
        db.conn.executemany("UPDATE episodes SET visits = coalesce(visits, 0) + 1 WHERE id = ?",
                            [(e,) for e in ids])
        db.execute("UPDATE nps_responses SET score = 10 - score WHERE id IN (SELECT id FROM"
                   " nps_responses ORDER BY id LIMIT ? OFFSET ?)", [n_nps, round_ * n_nps])
    db.close()
    return ids


def _floor_changed(url: str, path: Path, ids: list[str], round_: int, n_nps: int) -> None:
    import psycopg

    from outcomes.store.database import open_db

    db = open_db(path)
    marks = ", ".join("?" * len(ids))
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE floor.changed")
        with cur.copy("COPY floor.changed FROM STDIN") as copy:
            for row in db.execute(_FLOOR_READS["episodes"] + f" WHERE e.id IN ({marks})", ids):
                copy.write_row(("episode", row[0], repr(row)))
            for row in db.execute(_FLOOR_READS["episode_outcomes"]
                                  + f" WHERE episode_id IN ({marks})", ids):
                copy.write_row(("outcomes", row[0], repr(row)))
            for row in db.execute(_FLOOR_READS["nps_responses"] + " ORDER BY id LIMIT ? OFFSET ?",
                                  [n_nps, round_ * n_nps]):
                copy.write_row(("nps", str(row[0]), repr(row)))
    db.close()


def _floor_scorecard(conn: Any, params: dict[str, Any]) -> None:
    """On the same warm connection as ours, in one read-only snapshot as ours."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for sql in _FLOOR_SCORECARD:
            conn.execute(sql, params).fetchall()


def measure(scale: Scale, copies: int, runs: int, pg: str | None, seed: int,
            log: Callable[[str], None], data_dir: Path | None = None,
            ) -> tuple[list[tuple[str, Stat, Stat | None, str, str]], dict[str, Any]]:
    import psycopg

    from outcomes.group.reports import group_scorecard
    from outcomes.reports.scorecard import default_period
    from outcomes.store.database import open_db

    dataset = generate(scale, seed, (data_dir or ROOT / "bench" / "data") / "group",
                       nppes=False, log=log)
    work = (data_dir or ROOT / "bench" / "out") / f"group-{scale.name}"
    work.mkdir(parents=True, exist_ok=True)
    big = build_database(dataset, work / "clinic.db")
    log(f"making {copies} clinic copies")
    paths = _make_copies(big, work, copies)
    info: dict[str, Any] = {"scale": scale, "counts": dataset.counts}
    db = open_db(paths[0])
    info["change_log"] = db.execute("SELECT count(*) FROM change_log").fetchone()[0]
    info["packets"] = db.execute("SELECT count(*) FROM communications WHERE kind = 'packet'"
                                 ).fetchone()[0]
    db.close()
    figures: list[tuple[str, Stat, Stat | None, str, str]] = []

    with _server(pg) as fresh:
        # First sync of one clinic into an empty group database, interleaved with the floor.
        ours, floor = [], []
        for run in range(runs):
            url = fresh(f"bench_first_{run}")
            _floor_reset(url)
            seconds, records = _timed(_floor_copy, url, paths[0], "clinic1")
            floor.append(seconds)
            log(f"floor first sync {seconds:.1f} s ({records:,} rows)")
            seconds, result = _timed(_sync_file, paths[0], url)
            ours.append(seconds)
            log(f"first sync {seconds:.1f} s ({result.records:,} records, {result.batches}"
                " batches)")
        figures.append(("first sync of one clinic (empty group database)", Stat(ours),
                        Stat(floor), "the same rows read from SQLite and COPYed into "
                        "same-shaped tables, one transaction",
                        f"{result.records:,} records, "
                        + (f"{result.batches} batch{'es' if result.batches != 1 else ''}"
                           " of up to 2,000" if info["change_log"] > 1 else
                           "a full pass in batches of 2,000 (bulk-imported clinic)")
                        + f"; floor {records:,} rows"))

        # The group: every copy synced into one database.
        url = fresh("bench_group")
        _floor_reset(url)
        others = []
        for path in paths:
            seconds, result = _timed(_sync_file, path, url)
            others.append(seconds)
            log(f"sync {path.name}: {seconds:.1f} s")
        info["group_syncs"] = Stat(others)

        # Nothing new: median of 5 per clinic, interleaved with the floor.
        ours, floor = [], []
        for _ in range(5):
            for i, path in enumerate(paths):
                seconds, _r = _timed(_floor_nothing_new, url, path, f"clinic{i + 1}")
                floor.append(seconds)
                seconds, result = _timed(_sync_file, path, url)
                assert result.batches == 0
                ours.append(seconds)
        figures.append(("sync with nothing new (each clinic, opening the database included)",
                        Stat(ours), Stat(floor), "connect, read the clinic's position and the "
                        "change log's end", f"{len(ours)} syncs of {copies} clinics"))

        # An incremental sync after an ordinary day's edits.
        n_ep, n_nps = 1000, 500
        ours, floor = [], []
        for run in range(runs):
            ids = _change(paths[0], run, n_ep, n_nps)
            seconds, _r = _timed(_floor_changed, url, paths[0], ids, run, n_nps)
            floor.append(seconds)
            seconds, result = _timed(_sync_file, paths[0], url)
            ours.append(seconds)
            log(f"incremental sync {seconds:.2f} s ({result.records:,} records)")
        figures.append((f"incremental sync after {n_ep:,} episodes and {n_nps} NPS answers "
                        "changed", Stat(ours), Stat(floor), "the changed records' rows read "
                        "and COPYed into an empty table", f"{result.records:,} records "
                        f"(episodes, answers, the partners they point to) in {result.batches} batch"
                        + ("es" if result.batches != 1 else "")))

        # The group scorecard over every copy, warm, interleaved with the floor.
        start, end = default_period(BENCH_TODAY)
        params = {"start": start, "end": end}
        ours, floor = [], []
        with psycopg.connect(url) as conn:
            conn.execute("ANALYZE")
            conn.commit()
            group_scorecard(conn, start, end, min_n=5)  # warm-up
            _floor_scorecard(conn, params)
            for _ in range(max(runs, 5)):
                seconds, _r = _timed(_floor_scorecard, conn, params)
                floor.append(seconds)
                seconds, card = _timed(group_scorecard, conn, start, end, min_n=5)
                ours.append(seconds)
        log(f"group scorecard {statistics.median(ours):.2f} s, floor "
            f"{statistics.median(floor):.2f} s")
        figures.append((f"group scorecard over {copies} clinics (all partners, per clinic, "
                        "funnel, packet effect)", Stat(ours), Stat(floor),
                        "hand-written SQL over the same tables: per-partner counts and sums "
                        "only (no medians, clinics, funnel or packet effect)",
                        f"{card['clinic']['referrals']:,} referrals in {start}..{end}, "
                        f"{len(card['partners'])} partners, "
                        f"{card['clinic']['packet_effect']['packets']:,} packets pooled"))
    return figures, info


def render(figures: list[tuple[str, Stat, Stat | None, str, str]], info: dict[str, Any],
           copies: int, runs: int, seconds: float) -> str:
    scale, counts = info["scale"], info["counts"]
    lines = [
        GROUP_START,
        "## Group edition: sync and group scorecard (PostgreSQL)",
        "",
        f"Written by `python -m bench.group --scale {scale.name}` on {time.strftime('%Y-%m-%d')}"
        f" (whole run {seconds / 60:.1f} min); not rewritten by `make bench`. Dataset "
        f"`{scale.name}`: {counts.get('partners', 0):,} partners, "
        f"{counts.get('referrals', 0):,} episodes, {counts.get('nps', 0):,} NPS answers; "
        f"{info['packets']:,} packets logged per copy; "
        + (f"change log of {info['change_log']:,} records. " if info["change_log"] > 1 else
           "change log: one bulk mark (the clinic was bulk-imported). ")
        + f"{copies} copies, each its own clinic, synced into one database of a "
        "throwaway PostgreSQL server on the same machine (fsync and synchronous_commit off, as "
        "in the tests: a durable server adds the commit flushes). Ours and floor interleaved; "
        f"first and incremental syncs {runs} runs each, each first sync into a new database. "
        f"The syncs that built the {copies}-clinic group took {info['group_syncs'].show()}.",
        "",
        "| figure | ours | floor | ratio | notes |",
        "|---|---|---|---|---|",
    ]
    for name, ours, floor, floor_name, note in figures:
        ratio = f"{ours.median / floor.median:.2f}x" if floor and floor.median else "—"
        floor_text = f"{floor.show()} ({floor_name})" if floor else floor_name
        lines.append(f"| {name} | {ours.show()} | {floor_text} | {ratio} | {note} |")
    lines.append(GROUP_END)
    return "\n".join(lines)


def write_section(out: Path, section: str) -> None:
    text = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    if GROUP_START in text and GROUP_END in text:
        before = text[:text.index(GROUP_START)]
        after = text[text.index(GROUP_END) + len(GROUP_END):]
        text = before + section + after
    elif ANALYSIS_END in text:
        at = text.index(ANALYSIS_END)
        text = text[:at] + section + "\n\n" + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    out.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.group", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the dataset and clinic copies go (default bench/data, "
                             "bench/out)")
    parser.add_argument("--pg", default=None, help="a PostgreSQL server URL (default: start one)")
    parser.add_argument("--out", type=Path, default=None,
                        help="default docs/benchmarks.md (bench/out/group-smoke.md for smoke)")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    out = args.out or (ROOT / "bench/out/group-smoke.md" if scale is SMOKE
                       else ROOT / "docs/benchmarks.md")
    started = time.perf_counter()

    def log(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {text}", file=sys.stderr, flush=True)

    figures, info = measure(scale, args.copies, args.runs, args.pg, args.seed, log,
                            args.data_dir)
    section = render(figures, info, args.copies, args.runs, time.perf_counter() - started)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_section(out, section)
    log(f"wrote {out}")
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
