"""The benchmark harness runs end to end on a tiny dataset, so that it cannot rot.

It asserts that the report is produced with every figure row, and that the generator is
deterministic; it never asserts timings (CI machines vary)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import generate, run  # noqa: E402

FIGURES = [
    "CSV import of the whole dataset",
    *[f"CSV import, {kind} " for kind in generate.IMPORT_ORDER],
    "peak memory of the responses import",
    "dashboard complete first screen in tmux (demo database)",
    "`outcomes scorecard --json` for all partners",
    "scorecard for all partners",
    "one partner's drill-down",
    "dashboard first screen on the big database",
    "packet for one partner (PDF)",
    "NPPES prospect import",
    "peak memory of the dashboard on the big database",
    "longest interface stall while switching screens and typing filters",
]


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate.generate(generate.SMOKE, seed=5, root=tmp_path / "a")
    b = generate.generate(generate.SMOKE, seed=5, root=tmp_path / "b")
    c = generate.generate(generate.SMOKE, seed=6, root=tmp_path / "c")
    for kind in generate.IMPORT_ORDER:
        assert a.files[kind].read_bytes() == b.files[kind].read_bytes(), kind
    assert a.nppes.read_bytes() == b.nppes.read_bytes()
    assert a.files["referrals"].read_bytes() != c.files["referrals"].read_bytes()
    header = a.nppes.read_text().splitlines()[0].split('","')
    assert len(header) == 330
    assert a.files["partners"].stat().st_mode & 0o077 == 0  # synthetic patients, still private


def test_generated_files_import_cleanly(tmp_path: Path) -> None:
    from outcomes.store.database import open_db

    data = generate.generate(generate.SMOKE, seed=5, root=tmp_path)
    path = generate.build_database(data, tmp_path / "smoke.db")
    db = open_db(path)
    assert db.execute("SELECT count(*) FROM episodes").fetchone()[0] == data.counts["referrals"]
    assert db.execute("SELECT count(*) FROM responses").fetchone()[0] == data.counts["responses"]
    assert db.execute("SELECT count(*) FROM episode_outcomes WHERE mcid_met IS NOT NULL"
                      ).fetchone()[0] > 0
    db.close()


def test_smoke_run_writes_every_figure_row(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    assert run.main(["--smoke", "--data-dir", str(tmp_path / "data"), "--out", str(out)]) == 0
    text = out.read_text()
    assert "| figure | ours | floor | ratio | target | machine |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    for name in FIGURES:
        matching = [r for r in rows if r.startswith(f"| {name}")]
        assert len(matching) == 1, name
        assert matching[0].count("|") == 7, matching[0]
