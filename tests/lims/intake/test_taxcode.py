"""Tax codes checked with python-stdnum (lims/intake/taxcode.py): pure function, no app."""

from __future__ import annotations

import pytest

from lims.intake.taxcode import TaxCodeError, enterprise_code, normalize_tax_code


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0100233488", "0100233488"),  # enterprise (stdnum's own example)
        (" 01.00.233.488 ", "0100233488"),
        ("0314409058-002", "0314409058-002"),  # branch
        ("0314409058002", "0314409058-002"),
        ("079090001234", "079090001234"),  # household business: owner's personal ID
        ("", None),
        (None, None),
    ],
)
def test_accepted_forms(typed, stored):
    assert normalize_tax_code(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "0100233480",  # check digit wrong
        "4200123456",  # the old example: a typo the old length check let through
        "0100000000",  # zero sequence
        "0314409058-000",  # branch 000
        "12345",
        "07909000123",  # 11 digits
        "0100233488-0011",
        "abc",
        "01002334８８x",
    ],
)
def test_refused_with_a_message(typed):
    with pytest.raises(TaxCodeError) as exc:
        normalize_tax_code(typed)
    assert str(exc.value)


def test_enterprise_code_adds_the_check_digit():
    assert enterprise_code("010023348") == "0100233488"
    # a nine-digit stem whose check digit would be 10 has no valid code
    assert all(
        code is None or normalize_tax_code(code) == code
        for code in (enterprise_code(f"42{n:07d}") for n in range(200))
    )
