"""Where the app keeps its files: the database, user instrument definitions, settings."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import (
    user_cache_path,
    user_config_path,
    user_data_path,
    user_documents_path,
)

APP_NAME = "outcomes"
DB_ENV = "OUTCOMES_DB"


def default_db_path() -> Path:
    """The database used when neither ``--db`` nor ``OUTCOMES_DB`` names one."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return user_data_path(APP_NAME) / "outcomes.db"


def config_dir() -> Path:
    """The user's config directory (user instrument files in ``surveys/``, ``keymap.toml``)."""
    override = os.environ.get("OUTCOMES_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    return user_config_path(APP_NAME)


def cache_dir() -> Path:
    """Where the app keeps what it can always compute again (``OUTCOMES_CACHE_DIR``, else the
    user's cache directory). Nothing there holds health information."""
    override = os.environ.get("OUTCOMES_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    return user_cache_path(APP_NAME)


def shipped_surveys_dir() -> Path:
    """Folder of the instrument definitions shipped with the app (the wheel's, inside the
    package, then the source checkout's). Here, beside the user's folder, so that a reader
    without pydantic (the alert queue's worsening rule) finds them as the catalog does.

    A plain path beside this module, not ``importlib.resources``: the package is always
    installed as files (a wheel or a checkout), and that import cost the dashboard's first
    screen about 8 ms."""
    packaged = Path(__file__).resolve().parent / "surveys"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "surveys"


def user_surveys_dir() -> Path:
    return config_dir() / "surveys"


DOCUMENTS_ENV = "OUTCOMES_DOCUMENTS"


def documents_dir() -> Path:
    """Where letters and packets made from the dashboard go: ``$OUTCOMES_DOCUMENTS``, else an
    ``outcomes`` folder in the user's documents folder (never the working directory, which
    may be shared or synced)."""
    env = os.environ.get(DOCUMENTS_ENV)
    if env:
        return Path(env).expanduser()
    return user_documents_path() / "outcomes"


def display_path(path: Path) -> str:
    """A path as a user reads it: the home folder as ``~``."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)
