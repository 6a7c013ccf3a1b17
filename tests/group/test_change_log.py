"""The change log (migration 0004) that ``outcomes sync`` reads: every write to a synced table
raises its record's seq past all others, whatever statement made the write."""

from __future__ import annotations

from sqlite_utils import Database

NOW = "2026-01-01T00:00:00+00:00"


def _log(db: Database) -> list[tuple[str, str]]:
    """(entity, key) in seq order."""
    return [(e, k) for e, k in db.execute("SELECT entity, key FROM change_log ORDER BY seq")]


def _seed(db: Database) -> None:
    db.execute("INSERT INTO patients VALUES (1, 'MRN1', 'Ada', '1960-01-02', 'F', ?)", [NOW])
    db.execute("INSERT INTO partners (id, name, kind, npi, created_at, updated_at)"
               " VALUES (7, 'Dr A', 'orthopedic surgeon', '1234567893', ?, ?)", [NOW, NOW])
    db.execute("INSERT INTO episodes (id, patient_id, partner_id, referral_date, body_region,"
               " created_at, updated_at) VALUES ('E1', 1, 7, '2026-01-05', 'neck', ?, ?)",
               [NOW, NOW])
    db.execute("INSERT INTO episode_outcomes (episode_id, scale, instrument, partner_id,"
               " referral_date, intake_score, final_score) VALUES ('E1', 'ndi', 'ndi', 7,"
               " '2026-01-05', 40, 20)")
    db.execute("INSERT INTO nps_responses (id, episode_id, date, score, created_at)"
               " VALUES (3, 'E1', '2026-02-01', 9, ?)", [NOW])


def test_each_write_moves_its_record_to_the_end(db: Database) -> None:
    _seed(db)
    assert _log(db) == [("episode", "E1"), ("outcomes", "E1"), ("nps", "3")]
    db.execute("UPDATE episodes SET visits = 3 WHERE id = 'E1'")
    # One row per record: the episode moved, it was not logged twice.
    assert _log(db) == [("outcomes", "E1"), ("nps", "3"), ("episode", "E1")]
    db.execute("DELETE FROM nps_responses WHERE id = 3")
    assert _log(db)[-1] == ("nps", "3")
    seqs = [s for (s,) in db.execute("SELECT seq FROM change_log ORDER BY seq")]
    assert len(set(seqs)) == len(seqs)


def test_an_episode_update_also_logs_its_outcome_copies(db: Database) -> None:
    _seed(db)
    db.execute("UPDATE episodes SET referral_date = '2026-01-06' WHERE id = 'E1'")
    # episode_copies_upd rewrites the outcome rows' copies of the referral date.
    assert _log(db)[-2:] == [("episode", "E1"), ("outcomes", "E1")]


def test_a_patient_change_marks_each_of_the_patients_episodes(db: Database) -> None:
    _seed(db)
    db.execute("INSERT INTO episodes (id, patient_id, partner_id, referral_date, body_region,"
               " created_at, updated_at) VALUES ('E2', 1, NULL, '2026-03-05', 'knee', ?, ?)",
               [NOW, NOW])
    db.execute("UPDATE nps_responses SET score = 8 WHERE id = 3")
    db.execute("UPDATE patients SET birth_date = '1961-01-02' WHERE id = 1")
    assert _log(db)[-2:] == [("episode", "E1"), ("episode", "E2")]
    # A change to a column the group never receives marks nothing.
    before = _log(db)
    db.execute("UPDATE patients SET created_at = 'x' WHERE id = 1")
    assert _log(db) == before


def test_a_changed_key_logs_the_old_key_too(db: Database) -> None:
    _seed(db)
    db.execute("UPDATE nps_responses SET id = 4 WHERE id = 3")
    assert set(_log(db)[-2:]) == {("nps", "3"), ("nps", "4")}


def test_an_outer_or_ignore_does_not_keep_an_old_seq(db: Database) -> None:
    # A trigger's INSERT OR REPLACE would take the outer statement's OR IGNORE and keep the
    # record's old seq; the upsert must move it all the same.
    _seed(db)
    db.execute("INSERT OR IGNORE INTO nps_responses (id, episode_id, date, score, created_at)"
               " VALUES (8, NULL, '2026-02-02', 5, ?)", [NOW])
    db.execute("INSERT OR REPLACE INTO nps_responses (id, episode_id, date, score, created_at)"
               " VALUES (3, 'E1', '2026-02-01', 7, ?)", [NOW])
    assert _log(db)[-2:] == [("nps", "8"), ("nps", "3")]


def test_partners_are_not_logged(db: Database) -> None:
    # A sync compares a digest of all partners instead; and the prospect import counts the
    # partners it added with total_changes, which trigger writes would inflate.
    _seed(db)
    before = db.conn.total_changes
    db.execute("INSERT INTO partners (name, kind, created_at, updated_at)"
               " VALUES ('Law', 'attorney', ?, ?)", [NOW, NOW])
    assert db.conn.total_changes - before == 1
    assert all(entity != "partner" for entity, _key in _log(db))


def test_the_migration_logs_every_existing_record(tmp_path) -> None:
    import shutil
    from pathlib import Path

    from outcomes.store.database import open_db

    fixture = Path(__file__).resolve().parents[1] / "data" / "schemas" / "v3.db"
    path = tmp_path / "v3.db"
    shutil.copy(fixture, path)
    db = open_db(path)
    assert sorted(_log(db)) == sorted([("episode", "E1"), ("episode", "E2"), ("outcomes", "E1"),
                                       ("nps", "1"), ("nps", "2")])
    db.close()


def test_a_bulk_import_leaves_one_mark_instead_of_a_row_per_record(db: Database,
                                                                    tmp_path) -> None:
    from outcomes.importing.importer import run_import
    from outcomes.store.schema import BULK

    db.execute("INSERT INTO partners (id, name, kind, npi, created_at, updated_at)"
               " VALUES (7, 'Dr A', 'orthopedic surgeon', '1234567893', ?, ?)", [NOW, NOW])
    path = tmp_path / "referrals.csv"
    rows = ["episode_id,patient_id,partner_npi,referral_date,body_region"]
    rows += [f"B{i:05d},MRNB{i:05d},1234567893,2025-06-01,neck" for i in range(20_000)]
    path.write_text("\n".join(rows) + "\n")
    run_import(db, "referrals", path)  # 20,000 rows: the importer's bulk path
    assert _log(db) == [BULK]
    assert db.execute("SELECT count(*) FROM episodes").fetchone()[0] == 20_000
    # The per-row triggers are back for what follows.
    db.execute("UPDATE episodes SET visits = 2 WHERE id = 'B00001'")
    assert _log(db) == [BULK, ("episode", "B00001")]
