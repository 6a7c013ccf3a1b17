"""Errors in plain words: what the dashboard says when a job fails."""

from __future__ import annotations

from outcomes.errors import OutcomesError


def plain_error(exc: BaseException) -> str:
    """One sentence a user can act on: domain errors as they are, anything else named plainly
    (a locked or read-only database, a full disk) with what to do."""
    from outcomes.store.database import DatabaseBusy

    if isinstance(exc, DatabaseBusy):
        return ("The database is busy (another program, such as an import, is writing to it). "
                "Nothing was saved; what you typed is kept. Try again in a moment (ctrl+s).")
    if isinstance(exc, OutcomesError):
        return str(exc)
    text = str(exc)
    if "locked" in text or "busy" in text:
        return ("The database is busy (another program, such as an import, is writing to it). "
                "Nothing was saved; what you typed is kept. Try again in a moment (ctrl+s).")
    if "readonly" in text or "read-only" in text:
        return ("The database cannot be written (the file is read-only). Nothing was saved; "
                "what you typed is kept.")
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename or ''}".rstrip(": ") + ". Nothing was saved."
    return (f"Something went wrong ({type(exc).__name__}: {exc}). Nothing was saved; what you "
            "typed is kept.")
