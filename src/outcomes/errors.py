"""Errors the user can fix. The CLI prints their message as one sentence and exits 1."""

from __future__ import annotations


class OutcomesError(Exception):
    """Base class for every domain error: bad input, a database that cannot be used, a rule broken.

    The message is shown to the user as is, so it must say what is wrong and how to fix it.
    """


class ValidationError(OutcomesError, ValueError):
    """A value a user gave does not pass a rule (an invalid NPI, an answer out of range...).

    A ValueError too, so that pydantic reports it against the field it was raised for.
    ``field`` names that field when known.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InstrumentError(OutcomesError):
    """An instrument definition file is broken or an instrument id is unknown."""


class InvalidAnswer(ValidationError):
    """An answer to an instrument item is out of range or not an integer."""


class DatabaseError(OutcomesError):
    """The database file cannot be used: not SQLite, another application's, too new, unwritable."""


class NotFound(OutcomesError):
    """A record the user named does not exist."""
