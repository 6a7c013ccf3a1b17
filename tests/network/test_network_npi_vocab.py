"""NPI validation (check digit 0, repeated digits, every failure message) and synonyms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes import vocab
from outcomes.errors import ValidationError
from outcomes.npi import npi_check_digit, validate_npi


@pytest.mark.parametrize("npi", [
    "1234567893",   # the CMS worked example: 123456789 -> check digit 3
    "1000000020",   # check digit 0: 24 + doubled sum 6 = 30
    "1111111112",   # repeated digits, valid (check digit 2)
    "2222222228",   # repeated digits starting with 2, valid
    " 1234567893 ",  # surrounding spaces are trimmed
])
def test_valid_npis(npi: str) -> None:
    assert validate_npi(npi) == npi.strip()


def test_check_digit_zero() -> None:
    assert npi_check_digit("100000002") == 0



def _luhn_valid(digits: str) -> bool:
    """The textbook Luhn test, written independently: from the right, every second digit
    doubled, 9 taken off a product over 9, the whole sum a multiple of 10."""
    total = 0
    for place, char in enumerate(reversed(digits)):
        value = int(char) * (2 if place % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_check_digit_is_the_luhn_digit_over_the_80840_prefix(first_nine: str) -> None:
    # CMS: an NPI is valid when 80840 followed by its ten digits passes the Luhn test; the
    # check digit is the only one of the ten that does.
    passing = [d for d in range(10) if _luhn_valid(f"80840{first_nine}{d}")]
    assert passing == [npi_check_digit(first_nine)]

@pytest.mark.parametrize(("npi", "message"), [
    ("123456789", "has 9 digits; an NPI has exactly 10"),        # too short
    ("12345678930", "has 11 digits"),                            # too long
    ("12345-6789", "must contain digits only"),                  # punctuation
    ("１２３４５６７８９３", "must contain digits only"),              # full-width digits
    ("", "must contain digits only"),                            # empty
    ("3234567893", "must start with 1 or 2"),                    # wrong first digit
    ("1111111111", "fails its check digit (the last digit should be 2)"),  # repeated ones
    ("1234567890", "fails its check digit (the last digit should be 3)"),  # one-digit typo
    ("1000000021", "the last digit should be 0"),               # expected check digit 0
])
def test_invalid_npis_say_what_is_wrong(npi: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_npi(npi)
    assert message in str(info.value)


@pytest.mark.parametrize(("vocabulary", "text", "canonical"), [
    (vocab.PARTNER_KINDS, "PCP", "primary care"),
    (vocab.PARTNER_KINDS, "dc", "chiropractor"),
    (vocab.PARTNER_KINDS, "Ortho", "orthopedic surgeon"),
    (vocab.PARTNER_KINDS, "Personal Injury Attorney", "personal-injury attorney"),
    (vocab.PARTNER_KINDS, "PM&R", "pain management"),
    (vocab.TOUCH_METHODS, "call", "phone"),
    (vocab.TOUCH_METHODS, "Visit", "in person"),
    (vocab.TOUCH_METHODS, "lunch & learn", "lunch and learn"),
    (vocab.BODY_REGIONS, "lumbar", "low back"),
    (vocab.BODY_REGIONS, "C-spine", "neck"),
    (vocab.BODY_REGIONS, "foot", "ankle/foot"),
    (vocab.BODY_REGIONS, "Hand/Wrist", "wrist/hand"),
    (vocab.STAGES, "lapsed", "dormant"),
    (vocab.EPISODE_STATUSES, "in care", "in_care"),
    (vocab.EPISODE_STATUSES, "canceled", "cancelled"),
])
def test_synonyms(vocabulary: vocab.Vocabulary, text: str, canonical: str) -> None:
    assert vocabulary.normalize(text) == canonical


def test_unknown_value_lists_the_valid_ones() -> None:
    with pytest.raises(ValidationError) as info:
        vocab.TOUCH_METHODS.normalize("carrier pigeon")
    assert "not a known touchpoint method" in str(info.value)
    assert "lunch and learn" in str(info.value)
