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
