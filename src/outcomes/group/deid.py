"""How patients reach the group database: de-identified by default.

A patient is a keyed hash (HMAC-SHA256 with the group's secret) of the record number, so the
same patient seen at two clinics of the group, under the same record number, gets the same key,
and nobody without the secret can test a guessed record number against it (record numbers are
short: a plain hash would be reversed by trying them all). Episode ids are hashed the same way,
because clinics often build them from the record number. Ages are given in bands, with 90 and
over as one band (the HIPAA Safe Harbor rule for ages). Names, birth dates and free text are
never sent (nor the clinician, nor sex other than as a code); dates of referral, visits and
answers are, since the scorecard counts by day (see docs/group.md: the group database is a
limited data set, not Safe Harbor de-identified data). A scheduled appointment goes as a yes/no,
never as its date. Why a referral was not scheduled is free text in the clinic database: it
leaves only as one of a fixed list of reasons (:func:`reason_code`), anything else as
"other reason". An episode's condition goes as its condition group and procedure, each only
as a name of the conditions table (:func:`condition_code`, :func:`procedure_code`), never as the
diagnosis or anything typed.
"""

from __future__ import annotations

import hmac
from functools import cache

from outcomes.dates import AGE_BANDS, age_band, age_on
from outcomes.errors import ValidationError
from outcomes.vocab import Vocabulary

# Secrets shorter than this are refused: the secret is all that protects the record numbers.
MIN_SECRET_BYTES = 16


# Sex is a free-text field in the clinic database: only these spellings leave it, as a code.
_SEX_CODES = {"f": "F", "female": "F", "woman": "F", "m": "M", "male": "M", "man": "M",
              "x": "X", "other": "X", "nonbinary": "X", "non-binary": "X"}


def sex_code(value: str | None) -> str | None:
    """'F', 'M' or 'X' for the usual spellings; None for anything else (which may be free text)."""
    if value is None:
        return None
    return _SEX_CODES.get(value.strip().casefold())


OTHER_REASON = "other reason"
"""What a not-scheduled reason outside :data:`NOT_SCHEDULED_REASONS` is sent as."""

# The reasons a front desk gives most, each with the spellings taken for it (matched ignoring
# case and punctuation). Only these phrases leave the clinic: a typed reason may name the
# patient or a diagnosis ("Mrs Ruiz in hospital with a stroke").
NOT_SCHEDULED_REASONS = Vocabulary(
    "not-scheduled reason",
    {
        "Could not reach patient": ("could not reach", "unable to reach",
                                    "unable to reach patient", "could not contact",
                                    "could not contact patient", "unable to contact",
                                    "no answer", "no response", "no call back"),
        "Insurance not accepted": ("insurance", "out of network", "not in network",
                                   "insurance denied", "authorization denied",
                                   "no authorization"),
        "Chose another clinic": ("chose another provider", "went elsewhere",
                                 "went to another clinic", "another clinic"),
        "Patient declined": ("declined", "refused", "patient refused", "not interested"),
        "Cost": ("too expensive", "cost concerns", "high deductible", "copay", "financial"),
        "Scheduling conflict": ("no availability", "no suitable time", "schedule conflict"),
        "Transportation": ("no transportation", "too far", "distance"),
        "Condition resolved": ("resolved", "symptoms resolved", "feeling better",
                               "no longer needed"),
        "Referred elsewhere": ("referred to another provider", "redirected"),
        "Not appropriate for therapy": ("not appropriate", "inappropriate referral",
                                        "not a candidate"),
        "Duplicate referral": ("duplicate",),
        "Incomplete referral": ("incomplete", "missing information", "missing order",
                                "no prescription"),
    },
)


def reason_code(reason: str | None) -> str | None:
    """The not-scheduled reason as it may leave the clinic: the listed phrase it spells, else
    :data:`OTHER_REASON`; None when blank (the report says "no reason given")."""
    if reason is None or not reason.strip():
        return None
    try:
        return NOT_SCHEDULED_REASONS.normalize(reason)
    except ValidationError:
        return OTHER_REASON


def condition_code(group: str | None) -> str | None:
    """The condition group as it may leave the clinic: a group of the conditions table or an
    "Other <region>" fallback (``outcomes.measures.conditions``); None for anything else, which
    the group counts as "Other condition", as the clinic scorecard counts a missing group."""
    return group if group is not None and group in _condition_names()[0] else None


def procedure_code(procedure: str | None) -> str | None:
    """The procedure as it may leave the clinic: a procedure name of the conditions table's
    vocabulary, exactly; None for anything else (a name typed past the vocabulary)."""
    return procedure if procedure is not None and procedure in _condition_names()[1] else None


@cache
def _condition_names() -> tuple[frozenset[str], frozenset[str]]:
    """(condition group names, procedure names) the conditions table can produce."""
    from outcomes.measures.conditions import conditions, other_group
    from outcomes.vocab import BODY_REGIONS

    tables = conditions()
    groups = {*tables.group_names(), other_group(None),
              *(other_group(region) for region in BODY_REGIONS.values)}
    return frozenset(groups), frozenset(p.name for p in tables.procedures)


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
    # The one-shot form: a sync hashes a million keys, and hmac.new's object cost a third
    # of the time of a large first sync.
    return hmac.digest(secret, f"{kind}:{value}".encode(), "sha256").hex()


def secret_fingerprint(secret: bytes) -> str:
    """A value stored in the group database so that a clinic syncing with another secret is
    refused (its patients would never match); it reveals nothing of the secret."""
    return keyed_hash(secret, "check", "outcomes group secret")


__all__ = ["AGE_BANDS", "NOT_SCHEDULED_REASONS", "OTHER_REASON", "age_band", "age_on",
           "check_secret", "condition_code", "keyed_hash", "procedure_code", "reason_code",
           "secret_fingerprint", "sex_code"]
