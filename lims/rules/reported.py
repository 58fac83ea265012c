"""A stored result as the lab reports it (pure: no database, no Flask).

The certificate, the results and verification pages, the non-compliance register, the API and
the complaint's result letter all show a result through :func:`display_value`, so a value
reads the same everywhere.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from .numbers import NumberParseError, ParsedNumber, parse_number
from .rounding import format_result


class ReportedResult(Protocol):
    """What :func:`display_value` reads of a result (``lims.testing.models.Result``)."""

    @property
    def text_entered(self) -> str: ...
    @property
    def text_value(self) -> str | None: ...
    @property
    def value(self) -> Decimal | None: ...
    @property
    def qualifier(self) -> str | None: ...
    @property
    def decimals(self) -> int | None: ...
    @property
    def lod(self) -> Decimal | None: ...


def display_value(result: ReportedResult, parameter: object = None, lang: str = "vi") -> str:
    """The value as reported, with the decimals, LOD and LOQ of the method it was entered with
    (stored on the result): rounded to the method's decimals, ``< 0,005`` and
    ``KPH (LOD = 0,002)`` without the columns' padding, a class as ``1b``.

    ``parameter`` is not read (the result carries what its display needs); it is accepted so
    that pages and templates can keep calling ``display_value(result, parameter, lang)``."""
    if result.text_value is not None:
        return result.text_value
    if result.value is None and result.qualifier is None:
        return result.text_entered
    value = result.value
    decimals = result.decimals
    if value is not None and decimals is None and result.qualifier is None:
        # Report the precision that was typed, not the column's (accepted when it was entered).
        try:
            typed = parse_number(result.text_entered, point_is_decimal=True)
            value = typed.value if typed.value is not None and typed.qualifier is None else value
        except NumberParseError:
            value = value.normalize()
    parsed = ParsedNumber(text=result.text_entered, value=value, qualifier=result.qualifier)
    try:
        return format_result(parsed, decimals=decimals, lang=lang, lod=result.lod)
    except (ValueError, TypeError):
        return result.text_entered
