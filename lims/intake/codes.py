"""Sample code patterns (pure): ``KH-{yy}-{seq:06d}``, ``{yyyy}``, checked before use."""

from __future__ import annotations

import string

ALLOWED_FIELDS = frozenset({"yy", "yyyy", "seq"})
MAX_CODE_LENGTH = 40


class CodePatternError(ValueError):
    """The configured SAMPLE_CODE_PATTERN cannot make codes."""


def check_pattern(pattern: str) -> None:
    """Refuse a pattern that is not a format string over {yy}, {yyyy} and {seq} with exactly one
    {seq} and a year (the sequence restarts every year, so the year keeps codes unique)."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise CodePatternError("SAMPLE_CODE_PATTERN is empty")
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise CodePatternError(f"SAMPLE_CODE_PATTERN {pattern!r}: {exc}") from None
    fields = [name for _, name, _, _ in parts if name is not None]
    unknown = [f for f in fields if f not in ALLOWED_FIELDS]
    if unknown:
        raise CodePatternError(
            f"SAMPLE_CODE_PATTERN {pattern!r}: unknown field(s) {unknown}; use {{yy}}, {{yyyy}}, "
            "{seq}"
        )
    if fields.count("seq") != 1:
        raise CodePatternError(f"SAMPLE_CODE_PATTERN {pattern!r} needs exactly one {{seq}}")
    if "yy" not in fields and "yyyy" not in fields:
        raise CodePatternError(
            f"SAMPLE_CODE_PATTERN {pattern!r} needs the year ({{yy}} or {{yyyy}}): "
            "the sequence restarts every year"
        )
    for _, name, spec, conv in parts:
        if name is not None and (conv or "{" in (spec or "")):
            raise CodePatternError(f"SAMPLE_CODE_PATTERN {pattern!r}: no conversions or nesting")
    try:
        sample = format_code(pattern, year=2026, seq=1, check=False)
    except (ValueError, TypeError) as exc:
        raise CodePatternError(f"SAMPLE_CODE_PATTERN {pattern!r}: {exc}") from None
    if any(ch in sample for ch in "/\\?#%") or sample != sample.strip():
        raise CodePatternError(f"SAMPLE_CODE_PATTERN {pattern!r}: the code must be URL-safe")


def format_code(pattern: str, *, year: int, seq: int, check: bool = True) -> str:
    """The code for ``seq`` in ``year``; raises CodePatternError if the pattern is bad or the
    code longer than the column."""
    if check:
        check_pattern(pattern)
    code = pattern.format(yy=f"{year % 100:02d}", yyyy=f"{year:04d}", seq=seq)
    if len(code) > MAX_CODE_LENGTH:
        raise CodePatternError(f"sample code {code!r} is longer than {MAX_CODE_LENGTH}")
    return code
