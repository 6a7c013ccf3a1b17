"""Property: whatever a clinic does between syncs, and wherever syncs are interrupted, once a
sync completes the group database holds exactly what a first, full sync of the same clinic
database into an empty group database holds."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from outcomes.group.sync import sync
from outcomes.store import settings as clinic_settings
from outcomes.store.database import open_db, transaction
from tests.group.pgserver import Server

pytestmark = pytest.mark.slow

SECRET = b"property-secret-0123456789"
NOW = "2026-01-01T00:00:00+00:00"
NPIS = ["1234567893", "1245319599", "1003000126"]
_example = itertools.count()


class Interrupted(Exception):
    pass


KEYS = st.integers(0, 7)
OPS = st.lists(st.one_of(
    st.tuples(st.just("add"), KEYS, st.sampled_from([1, 2, 3, None]), st.integers(1, 28)),
    st.tuples(st.just("status"), KEYS, st.sampled_from(["evaluated", "discharged"]),
              st.integers(0, 20)),
    st.tuples(st.just("partner"), KEYS, st.sampled_from([1, 2, 3, None])),
    st.tuples(st.just("delete"), KEYS),
    st.tuples(st.just("birth"), KEYS, st.integers(1930, 2010)),
    st.tuples(st.just("npi"), st.integers(1, 3), st.sampled_from([*NPIS, None])),
    st.tuples(st.just("nps"), KEYS, st.integers(0, 10)),
    st.tuples(st.just("sync"), st.integers(1, 4), st.one_of(st.none(), st.integers(1, 3))),
), max_size=25)


def _apply(db: Any, op: tuple[Any, ...]) -> None:
    kind, *args = op
    with transaction(db):
        if kind == "add":
            key, partner, day = args
            if db.execute("SELECT 1 FROM episodes WHERE id = ?", [f"E{key}"]).fetchone():
                return
            db.execute("INSERT OR IGNORE INTO patients (record_number, name, birth_date,"
                       " created_at) VALUES (?, ?, '1970-05-05', ?)",
                       [f"MRN{key}", f"Name {key}", NOW])
            pid = db.execute("SELECT id FROM patients WHERE record_number = ?",
                             [f"MRN{key}"]).fetchone()[0]
            date = f"2026-02-{day:02d}"
            db.execute("INSERT INTO episodes (id, patient_id, partner_id, referral_date,"
                       " body_region, first_visit_date, created_at, updated_at)"
                       " VALUES (?, ?, ?, ?, 'neck', ?, ?, ?)",
                       [f"E{key}", pid, partner, date, date, NOW, NOW])
            db.execute("INSERT INTO episode_outcomes (episode_id, scale, instrument, partner_id,"
                       " referral_date, intake_score, final_score, improvement, mcid_met)"
                       " VALUES (?, 'ndi', 'ndi', ?, ?, 40, ?, ?, ?)",
                       [f"E{key}", partner, date, 40 - day, day, int(day >= 8)])
            db.execute("INSERT INTO nps_responses (episode_id, date, score, created_at)"
                       " VALUES (?, ?, ?, ?)", [f"E{key}", date, day % 11, NOW])
        elif kind == "status":
            key, status, visits = args
            db.execute("UPDATE episodes SET status = ?, visits = ? WHERE id = ?",
                       [status, visits, f"E{key}"])
        elif kind == "partner":
            key, partner = args
            db.execute("UPDATE episodes SET partner_id = ? WHERE id = ?", [partner, f"E{key}"])
        elif kind == "delete":
            (key,) = args
            for table in ("episode_outcomes", "nps_responses"):
                db.execute(f"DELETE FROM {table} WHERE episode_id = ?", [f"E{key}"])
            db.execute("DELETE FROM episodes WHERE id = ?", [f"E{key}"])
        elif kind == "birth":
            key, year = args
            db.execute("UPDATE patients SET birth_date = ? WHERE record_number = ?",
                       [f"{year}-03-04", f"MRN{key}"])
        elif kind == "npi":
            partner, npi = args
            db.execute("UPDATE partners SET npi = NULL WHERE npi = ?", [npi])
            db.execute("UPDATE partners SET npi = ? WHERE id = ?", [npi, partner])
        elif kind == "nps":
            key, score = args
            db.execute("UPDATE nps_responses SET score = ? WHERE episode_id = ?",
                       [score, f"E{key}"])


def _dump(url: str, clinic_id: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {
            "last_seq": conn.execute("SELECT last_seq FROM clinics WHERE clinic_id = %s",
                                     [clinic_id]).fetchone(),
            "partners": sorted(conn.execute(
                "SELECT c.local_id, p.match_key, p.npi, p.name, p.kind FROM clinic_partners c"
                " JOIN partners p ON p.id = c.partner_id WHERE c.clinic_id = %s",
                [clinic_id]).fetchall()),
            **{t: sorted(conn.execute(f"SELECT * FROM {t} WHERE clinic_id = %s",
                                      [clinic_id]).fetchall(), key=repr)
               for t in ("episodes", "episode_outcomes", "nps_responses")},
        }


@pytest.fixture(scope="module")
def two_groups(pg_server: Server) -> tuple[str, str]:
    import psycopg

    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        for name in ("prop_incremental", "prop_reference"):
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
    return pg_server.url("prop_incremental"), pg_server.url("prop_reference")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
# Each kind of change to a record the group already holds, once for sure:
@example(ops=[("add", 0, 1, 5), ("add", 1, None, 9), ("sync", 4, None), ("delete", 0),
              ("birth", 1, 1931), ("npi", 1, "1003000126"), ("partner", 1, 2),
              ("status", 1, "discharged", 7), ("nps", 1, 2)])
@example(ops=[("add", 0, 1, 5), ("sync", 4, None), ("birth", 0, 1931)])
@example(ops=[("add", 0, 1, 5), ("sync", 4, None), ("npi", 1, None)])
# A sync interrupted in its second batch, then changes, then the rest:
@example(ops=[("add", k, 2, k + 1) for k in range(6)] + [("sync", 2, 2), ("delete", 3),
                                                          ("sync", 1, 3)])
def test_incremental_equals_full(ops: list[tuple[Any, ...]], two_groups: tuple[str, str],
                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    incremental, reference = two_groups
    clinic_id = f"c{next(_example)}"
    path = Path(tmp_path_factory.mktemp("prop")) / "clinic.db"
    db = open_db(path)
    clinic_settings.set_value(db, "clinic_id", clinic_id)
    with transaction(db):
        for i, npi in enumerate(NPIS, start=1):
            db.execute("INSERT INTO partners (id, name, kind, npi, created_at, updated_at)"
                       " VALUES (?, ?, 'primary care', ?, ?, ?)", [i, f"Dr {i}", npi, NOW, NOW])
    for op in ops:
        if op[0] == "sync":
            _kind, batch_size, fail_at = op

            def fail(batch: int, fail_at: int | None = fail_at) -> None:
                if batch == fail_at:
                    raise Interrupted

            with contextlib.suppress(Interrupted):
                sync(db, incremental, secret=SECRET, batch_size=batch_size, before_commit=fail)
        else:
            _apply(db, op)
    sync(db, incremental, secret=SECRET, batch_size=3)
    sync(db, reference, secret=SECRET)
    db.close()
    got, want = _dump(incremental, clinic_id), _dump(reference, clinic_id)
    assert got == want


def test_a_bulk_load_is_one_mark_and_the_next_sync_sends_everything(
    two_groups: tuple[str, str], tmp_path: Path
) -> None:
    from outcomes.store.schema import change_log_in_bulk

    incremental, reference = two_groups
    clinic_id = "bulk"
    db = open_db(tmp_path / "bulk.db")
    clinic_settings.set_value(db, "clinic_id", clinic_id)
    with transaction(db):
        for i, npi in enumerate(NPIS, start=1):
            db.execute("INSERT INTO partners (id, name, kind, npi, created_at, updated_at)"
                       " VALUES (?, ?, 'primary care', ?, ?, ?)", [i, f"Dr {i}", npi, NOW, NOW])
    for key in range(4):
        _apply(db, ("add", key, 1, key + 1))
    sync(db, incremental, secret=SECRET)
    _apply(db, ("delete", 0))  # a per-row change before the load, covered by the full pass
    before = db.execute("SELECT count(*) FROM change_log").fetchone()[0]
    with transaction(db), change_log_in_bulk(db):
        for key in range(4, 60):
            _apply(db, ("add", key, 2, key % 28 + 1))
        _apply(db, ("delete", 1))
    # 60 episodes written, one row logged: the mark.
    assert db.execute("SELECT count(*) FROM change_log").fetchone()[0] == before + 1
    # A sync interrupted halfway through its full pass starts it over.
    commits = itertools.count(1)

    def third_commit_fails(_batch: int) -> None:
        if next(commits) == 3:
            raise Interrupted

    with contextlib.suppress(Interrupted):
        sync(db, incremental, secret=SECRET, batch_size=7, before_commit=third_commit_fails)
    assert next(commits) == 4, "the sync stopped at its third commit"
    _apply(db, ("status", 5, "discharged", 4))  # a per-row change after the load
    result = sync(db, incremental, secret=SECRET, batch_size=7)
    assert result.records > 60
    sync(db, reference, secret=SECRET)
    assert _dump(incremental, clinic_id) == _dump(reference, clinic_id)
    assert sync(db, incremental, secret=SECRET).batches == 0
    db.close()
