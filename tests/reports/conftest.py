"""Fixtures of the report tests; the hand-built clinic is described in reports_clinic.py."""

from __future__ import annotations

import pytest
from reports_clinic import build_clinic
from sqlite_utils import Database


@pytest.fixture
def clinic(db: Database) -> dict[str, int]:
    return build_clinic(db)
