"""National Provider Identifier validation (CMS rule: Luhn check digit over the 80840 prefix)."""

from __future__ import annotations

from outcomes.errors import ValidationError

# CMS: the check digit is the Luhn digit of the 9 leading digits prefixed with 80840; adding the
# prefix is the same as adding 24 to the doubled-digit sum.
_PREFIX_SUM = 24


def npi_check_digit(first_nine: str) -> int:
    """The Luhn check digit for the first nine digits of an NPI (123456789 -> 3)."""
    total = _PREFIX_SUM
    for position, char in enumerate(reversed(first_nine)):
        digit = int(char)
        if position % 2 == 0:  # rightmost digit of the nine is doubled
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def validate_npi(value: str) -> str:
    """Return the NPI as 10 digits, or raise ValidationError saying what is wrong."""
    npi = value.strip()
    if not npi.isdigit() or not npi.isascii():
        raise ValidationError(f"NPI {value!r} must contain digits only.")
    if len(npi) != 10:
        raise ValidationError(f"NPI {value!r} has {len(npi)} digits; an NPI has exactly 10.")
    if npi[0] not in "12":
        raise ValidationError(f"NPI {value!r} must start with 1 or 2.")
    expected = npi_check_digit(npi[:9])
    if int(npi[9]) != expected:
        raise ValidationError(
            f"NPI {value!r} fails its check digit (the last digit should be {expected}); "
            "check it for a typo."
        )
    return npi
