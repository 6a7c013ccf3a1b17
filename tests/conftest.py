"""Shared fixtures: every test runs with its own config and data folders and fixed dates."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlite_utils import Database

from outcomes.measures import catalog
from outcomes.store.database import open_db

# The demo is built relative to this date in tests, so numbers never drift with the calendar.
DEMO_TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the user's real config or database."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("OUTCOMES_CONFIG_DIR", str(home / "config" / "outcomes"))
    monkeypatch.delenv("OUTCOMES_DB", raising=False)
    catalog.instruments.cache_clear()
    yield home
    catalog.instruments.cache_clear()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "clinic.db"


@pytest.fixture
def db(db_path: Path) -> Database:
    database = open_db(db_path)
    yield database
    database.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from outcomes.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    database = open_db(path)
    build_demo(database, today=DEMO_TODAY)
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def demo_db_path(demo_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo database (built once per session) for one test."""
    target = tmp_path / "demo.db"
    shutil.copy(demo_template, target)
    target.chmod(0o600)
    return target


@pytest.fixture
def demo_db(demo_db_path: Path) -> Database:
    database = open_db(demo_db_path)
    yield database
    database.close()


@pytest.fixture
def clinic(db: Database) -> dict[str, int]:
    """The hand-built clinic of tests/clinic_fixture.py, whose figures are worked out by hand."""
    from tests.clinic_fixture import build_clinic

    return build_clinic(db)
