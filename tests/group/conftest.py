"""Fixtures of the group tests: one PostgreSQL server per test process, a fresh database per
test. Tests that need the server skip, saying why, only when no PostgreSQL is installed."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.group.pgserver import Server, find_bindir, running_server

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    if find_bindir() is None:
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl not found); .ci/run installs "
                    "it with apt when run as root")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (it is a dependency: pip install -e '.[test]')")
    with running_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: Server) -> str:
    """The URL (with its password) of a new, empty database on the test server."""
    import psycopg

    name = f"group_{next(_names)}"
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.url(name)
