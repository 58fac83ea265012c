"""Business tax codes, checked with python-stdnum (pure: no database, no Flask).

Three forms are accepted:

* **enterprise** — the 10-digit MST (mã số thuế): province code, sequence, and a check digit
  that :mod:`stdnum.vn.mst` verifies (a mistyped digit is refused);
* **branch** — the parent's 10 digits plus a 3-digit branch number (001–999), written
  ``0100233488-001``; the same check digit;
* **personal** — the 12-digit personal identification number (số định danh cá nhân) that
  individuals, household representatives and household businesses use in place of a tax code
  since 1 July 2025 (Circular 86/2024/TT-BTC on tax registration). The Law on Identification
  (Law 26/2023/QH15, Art. 12) fixes only that it is 12 digits: it has no public check digit,
  and python-stdnum has no module for it (``stdnum.vn`` holds ``mst`` alone, whose
  ``validate`` accepts 10 or 13 digits only), so a personal number is checked for its length
  and digits, nothing more.

Stored forms: the 10 or 12 digits, or ``NNNNNNNNNN-BBB`` for a branch (``stdnum.vn.mst.format``),
so a code typed with spaces, dots or without the dash is found again as the same business.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError
from stdnum.vn import mst

PERSONAL_ID_LENGTH = 12


class TaxCodeError(ValueError):
    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


SHAPE_MESSAGE = _l(
    "A tax code is 10 digits (13 for a branch, e.g. 4200123454-001), or for a household "
    "business the owner's 12-digit personal identification number."
)


def normalize_tax_code(text: str | None) -> str | None:
    """The stored form of a typed tax code (None when empty); TaxCodeError with a message a
    person can act on when it cannot be one."""
    compact = mst.compact(text or "")  # spaces, dots and dashes removed
    if not compact:
        return None
    if not compact.isascii() or not compact.isdigit():
        raise TaxCodeError(SHAPE_MESSAGE)
    if len(compact) == PERSONAL_ID_LENGTH:
        return compact
    try:
        return mst.format(mst.validate(compact))
    except InvalidChecksum:
        raise TaxCodeError(
            _l("The check digit of this tax code is wrong: compare it with the business's papers.")
        ) from None
    except InvalidComponent:
        raise TaxCodeError(
            _l("This tax code cannot exist (a zero sequence or branch number).")
        ) from None
    except ValidationError:
        raise TaxCodeError(SHAPE_MESSAGE) from None


def enterprise_code(nine_digits: str) -> str | None:
    """The 10-digit MST made of ``nine_digits`` and its check digit, or None when no check
    digit fits (the tax office never issues those): for demo data and tests."""
    digit = mst.calc_check_digit(nine_digits)
    code = nine_digits + digit
    return code if len(digit) == 1 and mst.is_valid(code) else None
