"""Done-when tests of the group edition (issue 15), on a real PostgreSQL server: three clinics
with overlapping partners synced (one sync killed halfway and rerun) give a group scorecard equal,
figure for figure, to the clinic scorecard over the union of their data; nothing identifying
reaches the group database under the default setting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from outcomes.group.deid import NOT_SCHEDULED_REASONS, OTHER_REASON
from outcomes.group.reports import group_scorecard
from outcomes.group.sync import sync
from outcomes.reports.scorecard import scorecard
from outcomes.store.database import open_db, transaction
from tests.conftest import DEMO_TODAY
from tests.group.clinics import (
    SECRET,
    assert_same_figures,
    build_clinics,
    build_union,
    comparable,
)

pytestmark = pytest.mark.slow

PERIODS = [
    (date(2025, 11, 23), DEMO_TODAY),  # the default period: partial months at both ends
    (date(2025, 1, 1), date(2026, 6, 30)),  # whole months only
    (date(2026, 3, 14), date(2026, 3, 20)),  # one week: small groups, suppression everywhere
]

_KILL_SCRIPT = """
import os, signal, sys
from outcomes.group.sync import sync
from outcomes.store.database import open_db

def die(batch):
    if batch == 3:  # inside the third batch's transaction, before its commit
        os.kill(os.getpid(), signal.SIGKILL)

sync(open_db(sys.argv[1]), sys.argv[2], secret=os.environb[b"SECRET"], batch_size=300,
     before_commit=die)
"""


@pytest.fixture(scope="module")
def clinic_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_clinics(tmp_path_factory.mktemp("clinics"), DEMO_TODAY)


@pytest.fixture
def clinics(clinic_files: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """Fresh copies of the three clinic databases for one test."""
    import shutil

    copies = {}
    for clinic_id, path in clinic_files.items():
        copies[clinic_id] = tmp_path / path.name
        shutil.copy(path, copies[clinic_id])
    return copies


def _last_seq(url: str, clinic_id: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT last_seq FROM clinics WHERE clinic_id = %s",
                           [clinic_id]).fetchone()
    return int(row[0]) if row else 0


def _sync_all(clinics: dict[str, Path], url: str) -> None:
    for path in clinics.values():
        db = open_db(path)
        sync(db, url, secret=SECRET, batch_size=500)
        db.close()


def _group_card(url: str, start: date, end: date, min_n: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        return group_scorecard(conn, start, end, min_n=min_n)


def _check_equal(clinics: dict[str, Path], url: str, tmp_path: Path, tag: str) -> None:
    union = build_union(clinics, tmp_path / f"union-{tag}.db")
    try:
        for start, end in PERIODS:
            for min_n in (5, 0, 40):
                want = scorecard(union, start, end, min_n=min_n).as_dict()
                got = _group_card(url, start, end, min_n)
                assert want["partners"], "the reference must list partners"
                assert_same_figures(comparable(got, group=True), comparable(want, group=False),
                                    f"{start}..{end} min_n={min_n}")
                # Per clinic: the group's block of each clinic is that clinic's own scorecard.
                for block in got["clinics"]:
                    db = open_db(clinics[block["clinic_id"]])
                    own = scorecard(db, start, end, min_n=min_n).as_dict()["clinic"]
                    db.close()
                    assert_same_figures({k: v for k, v in block.items()
                                         if k not in ("clinic_id", "name")}, own,
                                        f"clinic {block['clinic_id']}")
    finally:
        union.close()


def test_group_scorecard_equals_the_union_after_a_killed_sync(
    clinics: dict[str, Path], pg_url: str, tmp_path: Path
) -> None:
    north, south, east = clinics["north"], clinics["south"], clinics["east"]
    db = open_db(north)
    sync(db, pg_url, secret=SECRET, batch_size=500)
    db.close()

    # The south clinic's sync is killed (SIGKILL) inside its third batch's transaction.
    env = {**os.environ, "SECRET": SECRET.decode()}
    killed = subprocess.run([sys.executable, "-c", _KILL_SCRIPT, str(south), pg_url], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    db = open_db(south)
    local_max = db.execute("SELECT max(seq) FROM change_log").fetchone()[0]
    halfway = _last_seq(pg_url, "south")
    assert 0 < halfway < local_max  # two batches landed, the third did not
    result = sync(db, pg_url, secret=SECRET, batch_size=500)  # the rerun resumes
    assert result.last_seq == local_max
    db.close()
    db = open_db(east)
    sync(db, pg_url, secret=SECRET, batch_size=500)
    db.close()

    card = _group_card(pg_url, date(2025, 11, 23), DEMO_TODAY, 5)
    shared = [p for p in card["partners"] if p["n_clinics"] == 3]
    assert len(shared) >= 5, "partners with one NPI at three clinics are one group partner"
    assert "your" not in str(card)  # (the scorecard carries figures, not sentences)
    # The funnel and packet effect are compared below: make sure they hold something to compare
    # (reasons, pooled packets with intervals, packets of one partner from several clinics).
    assert card["clinic"]["funnel"]["not_scheduled"]
    assert card["clinic"]["packet_effect"]["packets"] >= 10
    assert card["clinic"]["packet_effect"]["ci95"] is not None
    # And the condition figures: several groups and procedures, some suppressed at min_n=5.
    assert len(card["clinic"]["by_condition"]) >= 3 and card["clinic"]["by_procedure"]
    assert any(row.get("suppressed") for p in card["partners"] for row in p["by_condition"])
    assert any(p["packet_effect"]["packets"] > sum(c["packet_effect"]["packets"] for c in
               p["clinics"][:1]) for p in shared)
    _check_equal(clinics, pg_url, tmp_path, "first")

    # Then each clinic works on: deletes, edits, a partner's new NPI; the next sync is
    # incremental and the group follows.
    for clinic_id, path in clinics.items():
        db = open_db(path)
        with transaction(db):
            db.execute("DELETE FROM episode_outcomes WHERE episode_id IN"
                       " (SELECT id FROM episodes ORDER BY id LIMIT 3)")
            db.execute("DELETE FROM nps_responses WHERE episode_id IN"
                       " (SELECT id FROM episodes ORDER BY id LIMIT 3)")
            db.execute("DELETE FROM outbound_referrals WHERE episode_id IN"
                       " (SELECT id FROM episodes ORDER BY id LIMIT 3)")
            db.execute("DELETE FROM communications WHERE episode_id IN"
                       " (SELECT id FROM episodes ORDER BY id LIMIT 3)")
            db.execute("DELETE FROM responses WHERE episode_id IN"
                       " (SELECT id FROM episodes ORDER BY id LIMIT 3)")
            db.execute("DELETE FROM episodes WHERE id IN"
                       " (SELECT id FROM episodes ORDER BY id LIMIT 3)")
            db.execute("UPDATE episodes SET status = 'discharged', visits = 12 WHERE id IN"
                       " (SELECT id FROM episodes WHERE status <> 'discharged'"
                       " AND referral_date > '2026-06-01' ORDER BY id LIMIT 4)")
            db.execute("UPDATE nps_responses SET score = 3 WHERE id IN"
                       " (SELECT id FROM nps_responses ORDER BY id DESC LIMIT 5)")
            # A packet withdrawn, another moved a month back; a referral not scheduled after
            # all (a reason added to the funnel).
            db.execute("DELETE FROM communications WHERE id = (SELECT min(id) FROM"
                       " communications WHERE kind = 'packet')")
            db.execute("UPDATE communications SET date = date(date, '-30 days') WHERE id ="
                       " (SELECT max(id) FROM communications WHERE kind = 'packet')")
            db.execute("UPDATE episodes SET status = 'not_scheduled', status_reason ="
                       " 'Insurance not accepted' WHERE id = (SELECT max(id) FROM episodes"
                       " WHERE status = 'received')")
            if clinic_id == "east":  # a shared partner loses its shared NPI at one clinic
                db.execute("UPDATE partners SET npi = '1999999991' WHERE name = 'Dr. Kevin Walsh'")
        before = _last_seq(pg_url, clinic_id)
        result = sync(db, pg_url, secret=SECRET)
        assert result.batches == 1 and 0 < result.records < 200
        assert result.last_seq > before
        db.close()
    _check_equal(clinics, pg_url, tmp_path, "second")


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    import psycopg

    tables = ("clinics", "partners", "clinic_partners", "episodes", "episode_outcomes",
              "nps_responses", "packets")
    with psycopg.connect(url) as conn:
        return {t: sorted(conn.execute(
            f"SELECT * FROM {t}" if t != "clinics" else
            "SELECT clinic_id, name, last_seq FROM clinics").fetchall(), key=repr)
            for t in tables}


def test_a_repeated_sync_changes_nothing(clinics: dict[str, Path], pg_url: str) -> None:
    _sync_all(clinics, pg_url)
    before = _dump(pg_url)
    again = [sync(open_db(p), pg_url, secret=SECRET) for p in clinics.values()]
    assert [r.batches for r in again] == [0, 0, 0]
    # Every batch sent again from the start (as after a crash between commit and reply).
    import psycopg

    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE clinics SET last_seq = 0")
    _sync_all(clinics, pg_url)
    assert _dump(pg_url) == before


def _sensitive(path: Path) -> tuple[set[str], set[str]]:
    """(texts that must appear nowhere, even inside a value; values no cell may equal)."""
    db = open_db(path)
    texts: set[str] = set()
    exact: set[str] = set()
    for mrn, name, birth in db.execute("SELECT record_number, name, birth_date FROM patients"):
        texts.add(mrn)
        texts.add(name)
        exact.add(birth)
    for row in db.execute("SELECT chief_complaint, findings, treatment, plan, status_reason,"
                          " diagnosis FROM episodes"):
        texts |= {v for v in row if v}
    # The listed not-scheduled reasons are not free text: they are the phrases allowed out.
    texts -= set(NOT_SCHEDULED_REASONS.values)
    texts |= {c for (c,) in db.execute("SELECT comment FROM nps_responses WHERE comment <> ''")}
    texts |= {n for (n,) in db.execute("SELECT notes FROM partners WHERE notes <> ''")}
    texts |= {e for (e,) in db.execute("SELECT id FROM episodes")}  # ids embed record numbers
    texts |= {c for (c,) in db.execute("SELECT DISTINCT clinician FROM episodes"
                                       " WHERE clinician <> ''")}  # free text too
    db.close()
    assert len(texts) > 1000 and len(exact) > 500
    return texts, exact


PLANTED_CONDITIONS = ["knee scope by Dr Wojtaszczyk at St Mary's", "Oyelaran-Quist: chronic pain"]
PLANTED_REASONS = ["Mrs Zyborska admitted with a stroke", "could not reach, son Tomaszewski"
                   " says she moved to Ohio"]


def test_no_identity_or_free_text_reaches_the_group_database(
    clinics: dict[str, Path], pg_url: str
) -> None:
    for path in clinics.values():  # typed reasons that name patients and conditions
        db = open_db(path)
        with transaction(db):
            for reason in PLANTED_REASONS:
                db.execute("UPDATE episodes SET status_reason = ? WHERE id = (SELECT min(id)"
                           " FROM episodes WHERE status = 'not_scheduled' AND status_reason"
                           " NOT IN (?, ?))", [reason, *PLANTED_REASONS])
            # A procedure and a condition group typed past the conditions table (as an old
            # import or a hand edit could leave them): they leave as nothing, not as text.
            db.execute("UPDATE episode_outcomes SET procedure = ?, condition_group = ?"
                       " WHERE episode_id = (SELECT min(episode_id) FROM episode_outcomes"
                       " WHERE is_primary = 1)", PLANTED_CONDITIONS)
        db.close()
    _sync_all(clinics, pg_url)
    texts: set[str] = set()
    exact: set[str] = set()
    for path in clinics.values():
        t, e = _sensitive(path)
        texts |= t
        exact |= e
    import psycopg

    cells: list[str] = []
    with psycopg.connect(pg_url) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
        assert {"episodes", "episode_outcomes", "nps_responses", "partners"} <= set(tables)
        for table in tables:
            columns = [c for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                [table])]
            for column in columns:
                cells += [v for (v,) in conn.execute(
                    f'SELECT DISTINCT "{column}"::text FROM {table}'
                    f' WHERE "{column}" IS NOT NULL')]
    assert len(cells) > 5000
    blob = "\n".join(cells)
    # Episode ids such as 'E00012' are short; look for them as whole cells only.
    leaked = sorted(t for t in texts if (len(t) >= 7 and t in blob))
    assert leaked == []
    assert sorted(set(cells) & (exact | texts)) == []
    for reason in PLANTED_REASONS:
        assert reason in texts
    assert "Zyborska" not in blob and "Tomaszewski" not in blob
    assert "Wojtaszczyk" not in blob and "Oyelaran" not in blob
    # The coded condition values did leave: the group needs them.
    assert "Total knee arthroplasty" in cells and "Low back pain" in cells
    # They reached the group as "other reason"; the listed phrases as themselves.
    assert OTHER_REASON in cells and "Could not reach patient" in cells


def test_a_restored_older_backup_is_refused_until_a_full_sync(
    clinics: dict[str, Path], pg_url: str, tmp_path: Path
) -> None:
    import shutil

    from outcomes.errors import OutcomesError
    from outcomes.group.sync import forget_clinic

    north = clinics["north"]
    backup = tmp_path / "backup.db"
    shutil.copy(north, backup)
    db = open_db(north)
    sync(db, pg_url, secret=SECRET)
    with transaction(db):
        db.execute("UPDATE nps_responses SET score = 0")
    sync(db, pg_url, secret=SECRET)
    db.close()
    # The clinic restores yesterday's backup: its change log is behind the group's copy.
    db = open_db(backup)
    with pytest.raises(OutcomesError, match="--full"):
        sync(db, pg_url, secret=SECRET)
    assert forget_clinic(db, pg_url, secret=SECRET) > 1000
    sync(db, pg_url, secret=SECRET)
    start, end = date(2025, 11, 23), DEMO_TODAY
    got = _group_card(pg_url, start, end, 5)["clinic"]
    assert_same_figures(got, scorecard(db, start, end, min_n=5).as_dict()["clinic"], "restored")
    assert got["nps"]["detractors"] < got["nps"]["n"]  # the backup's answers, not the zeros
    db.close()


# What each older version of the group schema lacked, to take away from a current database.
_OLDER_SCHEMAS = {
    1: ["ALTER TABLE episodes DROP COLUMN scheduled, DROP COLUMN self_discharged,"
        " DROP COLUMN not_scheduled_reason", "DROP TABLE packets",
        "ALTER TABLE clinics DROP COLUMN packets_digest"],
    2: [],
}
for _version in _OLDER_SCHEMAS:  # version 3 added the conditions
    _OLDER_SCHEMAS[_version].append(
        "ALTER TABLE episode_outcomes DROP COLUMN condition_group, DROP COLUMN procedure,"
        " DROP COLUMN surgical, DROP COLUMN is_primary")


@pytest.mark.parametrize("version", sorted(_OLDER_SCHEMAS))
def test_an_older_group_database_is_upgraded_and_resent(
    clinics: dict[str, Path], pg_url: str, version: int
) -> None:
    import psycopg

    from outcomes.group.pg import GROUP_SCHEMA_VERSION

    north = open_db(clinics["north"])
    sync(north, pg_url, secret=SECRET)
    with psycopg.connect(pg_url) as conn:
        for statement in _OLDER_SCHEMAS[version]:
            conn.execute(statement)
        conn.execute("UPDATE group_meta SET value = %s WHERE key = 'schema_version'",
                     [str(version)])
    result = sync(north, pg_url, secret=SECRET)
    local_max = north.execute("SELECT max(seq) FROM change_log").fetchone()[0]
    assert result.last_seq == local_max and result.records > 1000  # everything sent again
    start, end = date(2025, 11, 23), DEMO_TODAY
    got = _group_card(pg_url, start, end, 5)["clinic"]
    assert_same_figures(got, scorecard(north, start, end, min_n=5).as_dict()["clinic"],
                        f"upgraded from {version}")
    assert got["packet_effect"]["packets"] > 0 and got["funnel"]["not_scheduled"]
    assert got["primary"]["n"] > 100 and len(got["by_condition"]) > 3 and got["by_procedure"]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT value FROM group_meta WHERE key = 'schema_version'"
                            ).fetchone() == (str(GROUP_SCHEMA_VERSION),)
        assert conn.execute("SELECT count(*) FROM episode_outcomes WHERE is_primary"
                            ).fetchone()[0] > 100
    north.close()


def test_the_group_packet_leads_with_the_partners_condition_groups(
    clinics: dict[str, Path], pg_url: str, tmp_path: Path
) -> None:
    """The group packet's by-condition lead and table are the clinic packet's section over the
    union of the clinics (the same checks on the same cells), with the group in the clinic's
    place."""
    import psycopg

    from outcomes.documents.packets.bycondition import condition_section
    from outcomes.group.packet import build_group_packet
    from outcomes.group.reports import primary_cells

    _sync_all(clinics, pg_url)
    union = build_union(clinics, tmp_path / "union.db")
    start, end = date(2025, 11, 23), DEMO_TODAY
    with psycopg.connect(pg_url) as conn:
        cells = primary_cells(conn, start, end)
        card = group_scorecard(conn, start, end, min_n=0)
        shared = [p for p in card["partners"] if p["n_clinics"] == 3][:4]
        cards = {p["npi"]: group_scorecard(conn, start, end, min_n=0,
                                           partner_ids=[p["partner_id"]]) for p in shared}
    led = 0
    for npi, one in cards.items():
        (local,) = union.execute("SELECT id FROM partners WHERE npi = ?", [npi]).fetchone()
        want = condition_section(union, local, start, end, min_n=5, referred_ok=True)
        packet = build_group_packet({**one, "packet_min_n": 5}, group_name="Riverside Group",
                                    contact="", today=DEMO_TODAY, conditions=cells)
        assert packet.figures["conditions"] == want.figures, npi
        assert packet.conditions.rows == want.table.rows
        assert packet.summary[:len(want.lead)] == [
            line.replace("; clinic ", "; all our clinics ") for line in want.lead]
        led += any(line.startswith("By condition: ") for line in want.lead)
        assert "; clinic " not in " ".join(packet.summary)
    assert led >= 2, "the test partners must have condition groups large enough to show"
    union.close()
