"""How patients reach the group database: de-identified by default.

A patient is a keyed hash (HMAC-SHA256 with the group's secret) of the record number, so the
same patient seen at two clinics of the group, under the same record number, gets the same key,
and nobody without the secret can test a guessed record number against it (record numbers are
short: a plain hash would be reversed by trying them all). Episode ids are hashed the same way,
because clinics often build them from the record number. Ages are given in bands, with 90 and
over as one band (the HIPAA Safe Harbor rule for ages). Names, birth dates and free text are
never sent (nor the clinician, nor sex other than as a code); dates of referral, visits and
answers are, since the scorecard counts by day (see docs/group.md: the group database is a
limited data set, not Safe Harbor de-identified data).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from outcomes.errors import ValidationError

# Secrets shorter than this are refused: the secret is all that protects the record numbers.
MIN_SECRET_BYTES = 16

AGE_BANDS = ((0, 17), (18, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79), (80, 89))


# Sex is a free-text field in the clinic database: only these spellings leave it, as a code.
_SEX_CODES = {"f": "F", "female": "F", "woman": "F", "m": "M", "male": "M", "man": "M",
              "x": "X", "other": "X", "nonbinary": "X", "non-binary": "X"}


def sex_code(value: str | None) -> str | None:
    """'F', 'M' or 'X' for the usual spellings; None for anything else (which may be free text)."""
    if value is None:
        return None
    return _SEX_CODES.get(value.strip().casefold())


def check_secret(secret: bytes) -> bytes:
    secret = secret.strip()
    if len(secret) < MIN_SECRET_BYTES:
        raise ValidationError(
            f"the group secret is {len(secret)} bytes long; it needs at least "
            f"{MIN_SECRET_BYTES} (make one with: openssl rand -hex 32)."
        )
    return secret


def keyed_hash(secret: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of ``kind:value`` (hex). ``kind`` keeps a record number and an episode id
    with the same text apart."""
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def secret_fingerprint(secret: bytes) -> str:
    """A value stored in the group database so that a clinic syncing with another secret is
    refused (its patients would never match); it reveals nothing of the secret."""
    return keyed_hash(secret, "check", "outcomes group secret")


def age_on(birth: date, on: date) -> int:
    """Age in whole years on ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_band(birth: date | None, on: date) -> str | None:
    """The age band on ``on`` ('0-17', '18-29', ... '80-89', '90+'); None without a birth
    date or with one after ``on``."""
    if birth is None or birth > on:
        return None
    age = age_on(birth, on)
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return "90+"


__all__ = ["AGE_BANDS", "age_band", "age_on", "check_secret", "keyed_hash", "secret_fingerprint",
           "sex_code"]
