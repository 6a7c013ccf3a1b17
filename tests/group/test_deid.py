"""De-identification rules for the group database: keyed hashes and age bands."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes.errors import ValidationError
from outcomes.group.deid import (
    NOT_SCHEDULED_REASONS,
    OTHER_REASON,
    age_band,
    age_on,
    check_secret,
    condition_code,
    keyed_hash,
    procedure_code,
    reason_code,
    secret_fingerprint,
    sex_code,
)

SECRET = b"0123456789abcdef0123"


@pytest.mark.parametrize(
    ("birth", "on", "band"),
    [
        (date(2000, 6, 15), date(2018, 6, 14), "0-17"),  # the day before the 18th birthday
        (date(2000, 6, 15), date(2018, 6, 15), "18-29"),  # the 18th birthday
        (date(1990, 1, 1), date(2019, 12, 31), "18-29"),  # 29 years and 364 days
        (date(1990, 1, 1), date(2020, 1, 1), "30-39"),
        (date(1937, 3, 1), date(2026, 2, 28), "80-89"),  # 88 years: just below 89 -> 90
        (date(1936, 3, 1), date(2026, 2, 28), "80-89"),  # 89, the last age shown
        (date(1936, 3, 1), date(2026, 3, 1), "90+"),  # 90: Safe Harbor aggregates from here
        (date(1920, 1, 1), date(2026, 1, 1), "90+"),
        (date(2024, 2, 29), date(2025, 2, 28), "0-17"),  # a leap-day birth, not a year old
        (date(2026, 5, 1), date(2026, 4, 30), None),  # born after the referral: no band
        (None, date(2026, 4, 30), None),
    ],
)
def test_age_bands_at_their_edges(birth: date | None, on: date, band: str | None) -> None:
    assert age_band(birth, on) == band


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 1, 1)),
       st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 1, 1)))
def test_the_band_holds_the_age(birth: date, on: date) -> None:
    band = age_band(birth, on)
    if birth > on:
        assert band is None
        return
    age = age_on(birth, on)
    assert band is not None
    if band == "90+":
        assert age >= 90
    else:
        low, high = (int(x) for x in band.split("-"))
        assert low <= age <= high
    # The age is exact: a day later it is the same or one more.
    assert age_on(birth, on) <= age_on(birth, date.fromordinal(on.toordinal() + 1)) <= age + 1


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_keyed_hash_is_stable_and_keeps_values_and_kinds_apart(a: str, b: str) -> None:
    assert keyed_hash(SECRET, "patient", a) == keyed_hash(SECRET, "patient", a)
    if a != b:
        assert keyed_hash(SECRET, "patient", a) != keyed_hash(SECRET, "patient", b)
    assert keyed_hash(SECRET, "patient", a) != keyed_hash(SECRET, "episode", a)
    assert keyed_hash(SECRET, "patient", a) != keyed_hash(SECRET + b"x", "patient", a)


def test_the_hash_is_hmac_sha256_of_kind_and_value() -> None:
    import hashlib
    import hmac

    want = hmac.new(SECRET, b"patient:MRN42", hashlib.sha256).hexdigest()
    assert keyed_hash(SECRET, "patient", "MRN42") == want
    assert secret_fingerprint(SECRET) != secret_fingerprint(SECRET + b"!")


@pytest.mark.parametrize(("secret", "ok"), [
    (b"x" * 15, False),  # one byte short
    (b"x" * 16, True),  # the minimum
    (b"  " + b"x" * 15 + b"\n", False),  # whitespace does not count
    (b"x" * 17, True),
])
def test_short_secrets_are_refused(secret: bytes, ok: bool) -> None:
    if ok:
        assert check_secret(secret) == secret.strip()
    else:
        with pytest.raises(ValidationError, match="at least 16"):
            check_secret(secret)


def test_the_secret_file_must_be_private(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from outcomes.group.sync import read_secret

    path = tmp_path / "group.secret"
    path.write_bytes(SECRET + b"\n")
    path.chmod(0o640)
    with pytest.raises(ValidationError, match="chmod 600"):
        read_secret(path)
    path.chmod(0o600)
    assert read_secret(path) == SECRET
    monkeypatch.setenv("OUTCOMES_GROUP_SECRET_FILE", str(path))
    assert read_secret() == SECRET
    with pytest.raises(ValidationError, match="cannot read"):
        read_secret(tmp_path / "missing")


def test_the_cli_does_not_load_the_postgresql_driver_until_it_is_used() -> None:
    import subprocess
    import sys

    code = ("import sys, outcomes.cli.root, outcomes.group.sync, outcomes.group.reports;"
            " print('psycopg' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(("typed", "code"), [
    ("F", "F"), (" female ", "F"), ("M", "M"), ("Male", "M"), ("x", "X"), ("Non-binary", "X"),
    ("", None), (None, None),
    ("F, see note: lives with Ada Fixture", None),  # free text never leaves
])
def test_sex_leaves_only_as_a_code(typed: str | None, code: str | None) -> None:
    assert sex_code(typed) == code


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("Could not reach patient", "Could not reach patient"),  # a listed phrase, as listed
        ("  could NOT reach patient. ", "Could not reach patient"),  # case and punctuation
        ("unable to reach", "Could not reach patient"),  # a spelling taken for it
        ("out-of-network", "Insurance not accepted"),
        ("Mrs Ruiz in hospital with a stroke", OTHER_REASON),  # free text never leaves
        ("could not reach Mrs Ruiz", OTHER_REASON),  # a listed phrase plus a name is free text
        ("", None),  # blank: the report says "no reason given"
        ("   ", None),
        (None, None),
    ],
)
def test_a_not_scheduled_reason_leaves_only_as_a_listed_phrase(typed: str | None,
                                                                sent: str | None) -> None:
    assert reason_code(typed) == sent


@given(st.text(max_size=60))
def test_no_typed_text_but_the_listed_phrases_leaves(typed: str) -> None:
    sent = reason_code(typed)
    assert sent is None or sent == OTHER_REASON or sent in NOT_SCHEDULED_REASONS.values
    if sent is None:
        assert not typed.strip()


@pytest.mark.parametrize(("typed", "sent"), [
    ("Low back pain", "Low back pain"),  # a group of the conditions table
    ("After knee replacement", "After knee replacement"),
    ("Other knee", "Other knee"),  # the fallback of a region
    ("Other condition", "Other condition"),  # the fallback without a region
    ("Other kneecap", None),  # not a region's fallback
    ("low back pain", None),  # exactly as the table spells it, nothing near it
    ("M54.50", None),  # a diagnosis code is not a group
    ("Mrs Ruiz's back", None),
    (None, None),
])
def test_a_condition_group_leaves_only_as_a_name_of_the_table(typed: str | None,
                                                              sent: str | None) -> None:
    assert condition_code(typed) == sent


@pytest.mark.parametrize(("typed", "sent"), [
    ("Total knee arthroplasty", "Total knee arthroplasty"),
    ("Other surgery", "Other surgery"),
    ("TKA", None),  # a synonym is normalised by the core before it is stored; never typed text
    ("knee scope by Dr Wojtaszczyk", None),
    ("", None),
    (None, None),
])
def test_a_procedure_leaves_only_as_a_name_of_the_vocabulary(typed: str | None,
                                                             sent: str | None) -> None:
    assert procedure_code(typed) == sent


@given(st.text(max_size=40))
def test_no_typed_condition_text_but_the_tables_names_leaves(typed: str) -> None:
    from outcomes.measures.conditions import conditions

    tables = conditions()
    group, procedure = condition_code(typed), procedure_code(typed)
    assert group is None or (group == typed and (
        group in tables.group_names() or group.startswith("Other ")))
    assert procedure is None or procedure in {p.name for p in tables.procedures}
