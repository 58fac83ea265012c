"""Classes (copper-strip corrosion, ASTM D130): parsing a class, judging it against a limit,
describing the limit (pure)."""

from __future__ import annotations

from decimal import Decimal

from lims.rules.limits import NumericLimit
from lims.rules.rounding import format_decimal
from lims.rules.verdicts import Judgement, Verdict, verdict_label, worst_verdict

__all__ = [
    "CORROSION_CLASSES",
    "describe_class_limit",
    "parse_class",
    "judge_class",
]

#: Copper strip corrosion classes (ASTM D130 / TCVN 2694; for LPG ASTM D1838 / TCVN 8359), best
#: first. A class is a grade on a scale, not a number: "1b" is not 1.2.
CORROSION_CLASSES: tuple[str, ...] = tuple("1a 1b 2a 2b 2c 2d 2e 3a 3b 4a 4b 4c".split())


def parse_class(text: str) -> str:
    """``1a``, ``1 A``, ``loại 1b``, ``class 2c`` → the class code (``1a``…``4c``).

    A bare number (``1``) is refused: the class needs its letter. Raises ``ValueError`` with a
    message in Vietnamese and English.
    """
    key = " ".join(str(text or "").casefold().split())
    for word in ("loại", "class", "no.", "số"):
        if key.startswith(word):
            key = key[len(word) :].strip()
    key = key.replace(" ", "")
    if key in CORROSION_CLASSES:
        return key
    allowed = ", ".join(CORROSION_CLASSES)
    raise ValueError(
        f"'{text}' không phải là một cấp ăn mòn (ghi {allowed}). / '{text}' is not a corrosion "
        f"class (write {allowed})."
    )


def judge_class(result: str, limit: NumericLimit) -> Judgement:
    """Judge a corrosion class against a limit on the class number (``≤ 1``: class 1a and 1b
    pass, 2a and worse fail). Decision rules with a guard band do not apply to a class."""
    code = parse_class(result)
    number = Decimal(code[0])
    verdicts = []
    if limit.upper is not None:
        inside = number <= limit.upper if limit.upper_inclusive else number < limit.upper
        verdicts.append(Verdict.PASS if inside else Verdict.FAIL)
    if limit.lower is not None:
        inside = number >= limit.lower if limit.lower_inclusive else number > limit.lower
        verdicts.append(Verdict.PASS if inside else Verdict.FAIL)
    verdict = worst_verdict(verdicts)
    lim_vi, lim_en = describe_class_limit(limit, "vi"), describe_class_limit(limit, "en")
    return Judgement(
        verdict,
        f"Loại {code} so với mức {lim_vi}: {verdict_label(verdict, 'vi')}.",
        f"Class {code} against the limit {lim_en}: {verdict_label(verdict, 'en')}.",
    )


def describe_class_limit(limit: NumericLimit, lang: str = "vi") -> str:
    """``Không quá loại 1`` / ``Not worse than class 1`` (a class limit is on the class number)."""
    parts = []
    if limit.upper is not None:
        n = format_decimal(limit.upper, lang)
        if lang == "en":
            parts.append(
                f"not worse than class {n}" if limit.upper_inclusive else f"better than class {n}"
            )
        else:
            parts.append(f"không quá loại {n}" if limit.upper_inclusive else f"tốt hơn loại {n}")
    if limit.lower is not None:
        n = format_decimal(limit.lower, lang)
        parts.append(f"class {n} or worse" if lang == "en" else f"từ loại {n} trở lên")
    text = (" and " if lang == "en" else " và ").join(parts)
    return text[:1].upper() + text[1:]
