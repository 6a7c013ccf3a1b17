"""The dashboard (a long read transaction) open while a CLI import and a CLI survey entry
write: no 'database is locked' reaches the user, no write is lost, readers see consistent data."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from outcomes.store.database import open_db


def cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", "from outcomes.cli import main; main()",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_reader_import_and_survey_entry_at_once(demo_db_path: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(demo_db_path)
    npi = conn.execute("SELECT npi FROM partners WHERE npi IS NOT NULL LIMIT 1").fetchone()[0]
    episodes = [r[0] for r in conn.execute(
        "SELECT id FROM episodes WHERE instrument = 'odi' ORDER BY id LIMIT 15")]
    conn.close()
    rows = ["episode_id,patient_id,partner_npi,referral_date,body_region"]
    rows += [f"C{i:05d},MRNC{i:05d},{npi},2025-06-01,neck" for i in range(5000)]
    csv_path = tmp_path / "ref.csv"
    csv_path.write_text("\n".join(rows) + "\n")

    reader = open_db(demo_db_path)
    reader.execute("BEGIN")
    seen_before = reader.execute("SELECT count(*) FROM episodes").fetchone()[0]

    importer = cli("--db", str(demo_db_path), "import", "referrals", str(csv_path))
    surveys = [cli("--db", str(demo_db_path), "responses", "add", ep, "odi", "follow_up",
                   *["2"] * 10, "--date", f"2026-02-{i + 1:02d}")
               for i, ep in enumerate(episodes)]
    results = [(*p.communicate(timeout=120), p.returncode) for p in [importer, *surveys]]
    for _out, err, code in results:
        assert code == 0, err
        assert "locked" not in err

    # The open read transaction still sees its snapshot: consistent, not half an import.
    assert reader.execute("SELECT count(*) FROM episodes").fetchone()[0] == seen_before
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM episodes").fetchone()[0] == seen_before + 5000
    stored = reader.execute(
        "SELECT count(*) FROM responses WHERE timepoint = 'follow_up' AND date >= '2026-02-01'"
        " AND date <= '2026-02-28'").fetchone()[0]
    assert stored == len(episodes)  # no survey lost


@pytest.mark.slow
def test_a_survey_saves_while_a_prospect_import_is_under_way(demo_db_path: Path,
                                                             tmp_path: Path) -> None:
    """`prospects import` runs for minutes on the national file: between its batches the write
    lock is free, so a survey entered meanwhile is stored at once (here with a 1-second busy
    timeout), and the import still adds every provider."""
    import os
    import random

    from bench.generate import write_nppes

    nppes = tmp_path / "npidata.csv"
    write_nppes(nppes, random.Random(5), 400, [])
    script = (
        "import sys\n"
        "from outcomes.network import prospects\n"
        "from outcomes.store.database import open_db\n"
        "prospects.BATCH = 20\n"
        "flush = prospects._flush\n"
        "def paused(*args):\n"
        "    added = flush(*args)\n"
        "    print('committed', added, flush=True)\n"
        "    sys.stdin.readline()  # wait here, between two batches, until told to go on\n"
        "    return added\n"
        "prospects._flush = paused\n"
        "report = prospects.import_prospects(open_db(sys.argv[1]), sys.argv[2])\n"
        "print('done', report.added, flush=True)\n"
    )
    importer = subprocess.Popen([sys.executable, "-c", script, str(demo_db_path), str(nppes)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert importer.stdin is not None and importer.stdout is not None
    conn = sqlite3.connect(demo_db_path)
    episodes = [r[0] for r in conn.execute(
        "SELECT id FROM episodes WHERE instrument = 'odi' ORDER BY id LIMIT 3")]
    conn.close()
    env = {**os.environ, "OUTCOMES_BUSY_TIMEOUT_MS": "1000"}
    saved = 0
    while True:
        line = importer.stdout.readline()
        if not line.startswith("committed"):
            break
        if saved < len(episodes):  # the import is paused between two batches
            survey = subprocess.run(
                [sys.executable, "-c", "from outcomes.cli import main; main()",
                 "--db", str(demo_db_path), "responses", "add", episodes[saved], "odi",
                 "follow_up", *["2"] * 10, "--date", f"2026-03-0{saved + 1}"],
                capture_output=True, text=True, env=env, timeout=120)
            assert survey.returncode == 0, survey.stderr
            saved += 1
        importer.stdin.write("\n")
        importer.stdin.flush()
    importer.stdin.close()
    assert importer.wait(timeout=120) == 0
    assert line.startswith("done") and saved == len(episodes)
    conn = sqlite3.connect(demo_db_path)
    added = int(line.split()[1])
    assert added > 60  # several batches of 20
    assert conn.execute("SELECT count(*) FROM partners WHERE stage = 'prospect'"
                        " AND notes LIKE 'From NPPES%'").fetchone()[0] == added
    assert conn.execute("SELECT count(*) FROM responses WHERE timepoint = 'follow_up'"
                        " AND date BETWEEN '2026-03-01' AND '2026-03-03'").fetchone()[0] == 3
    conn.close()
