"""National Provider Identifier validation (CMS rule: Luhn check digit over the 80840 prefix)."""

from __future__ import annotations

from outcomes.errors import ValidationError

# CMS: the check digit is the Luhn digit of the 9 leading digits prefixed with 80840; adding the
# prefix is the same as adding 24 to the doubled-digit sum.
_PREFIX_SUM = 24
# A digit doubled, its digits summed (Luhn): 0 1 2 3 4 5 6 7 8 9 -> 0 2 4 6 8 1 3 5 7 9.
_DOUBLED = str.maketrans("0123456789", "0246813579")


def npi_check_digit(first_nine: str) -> int:
    """The Luhn check digit for the first nine digits of an NPI (123456789 -> 3)."""
    # The rightmost of the nine is doubled, so the digits at even places from the left are;
    # a digit table and slices (no loop in Python): a partners import checks every NPI.
    total = (_PREFIX_SUM + sum(map(int, first_nine[0::2].translate(_DOUBLED)))
             + sum(map(int, first_nine[1::2])))
    return -total % 10


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
