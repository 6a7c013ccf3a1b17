"""The group commands as users run them: credentials from a PGPASSFILE, never printed or
audited; the group scorecard JSON; the group packet; clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest

from outcomes.group.reports import group_scorecard
from outcomes.store.database import open_db, transaction
from tests.cli_helpers import run_cli
from tests.conftest import DEMO_TODAY
from tests.group.clinics import SECRET, build_clinics
from tests.group.pgserver import Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_clinics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    paths = build_clinics(tmp_path_factory.mktemp("cli-clinics"), DEMO_TODAY)
    return {k: paths[k] for k in ("north", "south")}


@pytest.fixture
def env(tmp_path: Path, pg_server: Server, pg_url: str,
        monkeypatch: pytest.MonkeyPatch) -> str:
    """A URL without password, the password in a PGPASSFILE, the secret in a file; returns
    the URL."""
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{pg_server.host}:{pg_server.port}:*:{pg_server.user}:"
                        f"{pg_server.password}\n")
    passfile.chmod(0o600)
    secret = tmp_path / "group.secret"
    secret.write_bytes(SECRET)
    secret.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    monkeypatch.setenv("OUTCOMES_GROUP_SECRET_FILE", str(secret))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    return pg_url.replace(f":{pg_server.password}@", "@")


def _copy(path: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / path.name
    shutil.copy(path, target)
    return target


def test_sync_and_group_reports_from_the_command_line(
    two_clinics: dict[str, Path], tmp_path: Path, env: str, pg_server: Server,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert pg_server.password not in env
    for path in two_clinics.values():
        db_path = _copy(path, tmp_path)
        result = run_cli(capsys, "--db", str(db_path), "sync", "--to", env)
        assert result.code == 0, result.err
        assert "Sent" in result.out and pg_server.password not in result.out + result.err
        again = run_cli(capsys, "--db", str(db_path), "sync", "--to", env)
        assert again.code == 0 and "up to date" in again.out
        db = open_db(db_path)
        audit = " ".join(d for (d,) in db.execute(
            "SELECT detail FROM audit_log WHERE action = 'sync'"))
        db.close()
        assert '"target": "postgresql://' in audit
        assert pg_server.password not in audit and SECRET.decode() not in audit

    result = run_cli(capsys, "--db", str(db_path), "group", "scorecard", "--pg", env,
                     "--from", "2025-11-23", "--to", DEMO_TODAY.isoformat(), "--json")
    assert result.code == 0, result.err
    card = json.loads(result.out)
    with psycopg.connect(env) as conn:
        want = group_scorecard(conn, DEMO_TODAY.replace(year=2025, day=23), DEMO_TODAY, min_n=5)
    assert card == json.loads(json.dumps(want))
    assert [c["clinic_id"] for c in card["clinics"]] == ["north", "south"]
    assert sum(c["referrals"] for c in card["clinics"]) == card["clinic"]["referrals"]

    table = run_cli(capsys, "--db", str(db_path), "group", "scorecard", "--pg", env)
    assert table.code == 0 and "Per clinic:" in table.out
    # The group's row in the figures and in the by-condition section, in the group's table and
    # again in the per-clinic one.
    assert table.out.count("(all clinics)") == 4 and "(whole clinic)" not in table.out
    assert table.out.count("By condition:") == 2 and "procedure: " in table.out

    shared = next(p for p in card["partners"] if p["n_clinics"] == 2 and p["referrals"] >= 5)
    out = tmp_path / "group.md"
    result = run_cli(capsys, "--db", str(db_path), "group", "packet", shared["npi"], "--pg", env,
                     "--from", "2025-11-23", "--to", DEMO_TODAY.isoformat(), "--out", str(out))
    assert result.code == 0, result.err
    text = out.read_text()
    assert f"Of the {shared['referrals']} patients you referred across our 2 clinics" in text
    assert shared["name"] in text
    # Led by the primary-measure headline, with the by-condition table (cells from PostgreSQL).
    assert "on their primary measure" in text and "### Outcomes by condition" in text
    assert os.stat(out).st_mode & 0o777 == 0o600


def test_errors_are_one_sentence_without_the_password(
    two_clinics: dict[str, Path], tmp_path: Path, env: str, pg_server: Server,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    db_path = _copy(two_clinics["north"], tmp_path)
    wrong = env.replace(f"{pg_server.user}@", f"{pg_server.user}:wrong-password-123@")
    result = run_cli(capsys, "--db", str(db_path), "sync", "--to", wrong)
    assert result.code == 1
    assert result.err.startswith("Error: cannot connect to postgresql://")
    assert "wrong-password-123" not in result.err and "Traceback" not in result.err

    result = run_cli(capsys, "--db", str(db_path), "sync", "--to", "mysql://x@y/z")
    assert result.code == 1 and "PostgreSQL URL" in result.err

    monkeypatch.delenv("OUTCOMES_GROUP_SECRET_FILE")
    result = run_cli(capsys, "--db", str(db_path), "sync", "--to", env)
    assert result.code == 1 and "no group secret" in result.err

    short = tmp_path / "short.secret"
    short.write_bytes(b"tooshort")
    short.chmod(0o600)
    result = run_cli(capsys, "--db", str(db_path), "sync", "--to", env, "--secret-file",
                     str(short))
    assert result.code == 1 and "at least 16" in result.err

    fresh = tmp_path / "fresh.db"
    result = run_cli(capsys, "--db", str(fresh), "sync", "--to", env, "--secret-file",
                     str(tmp_path / "group.secret"))
    assert result.code == 1 and "clinic_id" in result.err


def test_another_secret_or_mode_is_refused(
    two_clinics: dict[str, Path], tmp_path: Path, env: str,
) -> None:
    from outcomes.errors import ValidationError
    from outcomes.group.sync import sync
    from outcomes.store import settings

    north = open_db(_copy(two_clinics["north"], tmp_path))
    sync(north, env, secret=SECRET)
    south = open_db(_copy(two_clinics["south"], tmp_path))
    with pytest.raises(ValidationError, match="same secret file"):
        sync(south, env, secret=b"another-secret-of-32-bytes-xxxxx")
    settings.set_value(south, "group_identified", True)
    with pytest.raises(ValidationError, match="de-identified data"):
        sync(south, env, secret=SECRET)


def test_identified_mode_sends_identity(
    two_clinics: dict[str, Path], tmp_path: Path, env: str,
) -> None:
    # The counterpart of the de-identification test: the same grep finds identity when the
    # group is one covered entity and says so.
    from outcomes.group.sync import sync
    from outcomes.store import settings

    db = open_db(_copy(two_clinics["north"], tmp_path))
    settings.set_value(db, "group_identified", True)
    with transaction(db):
        db.execute("UPDATE episodes SET status_reason = 'Mrs Zyborska moved to Ohio' WHERE id ="
                   " (SELECT min(id) FROM episodes WHERE status = 'not_scheduled')")
    sync(db, env, secret=SECRET)
    mrn, name, birth = db.execute(
        "SELECT record_number, name, birth_date FROM patients ORDER BY id LIMIT 1").fetchone()
    with psycopg.connect(env) as conn:
        row = conn.execute("SELECT patient_name, birth_date::text FROM episodes"
                           " WHERE record_number = %s LIMIT 1", [mrn]).fetchone()
    assert row == (name, birth)
    with psycopg.connect(env) as conn:  # and free text: the reason as typed
        assert conn.execute("SELECT count(*) FROM episodes WHERE not_scheduled_reason ="
                            " 'Mrs Zyborska moved to Ohio'").fetchone() == (1,)
