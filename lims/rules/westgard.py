"""Westgard rules on a control series: pure, no database, no Flask.

A point's z-score is ``(value − mean) / sd``. "Beyond" is strict: a point exactly at 2 SD
does not violate a 2 SD rule. Each rule is marked on the point that completes it:

- ``1-2s`` (warning): the point is beyond ±2 SD;
- ``1-3s`` (rejection): the point is beyond ±3 SD;
- ``2-2s`` (rejection): this point and the one before are both beyond 2 SD on the same side;
- ``R-4s`` (rejection): of this point and the one before, one is beyond +2 SD and the other
  beyond −2 SD (a range of more than 4 SD within a run or between consecutive points);
- ``4-1s`` (rejection): this point and the three before are all beyond 1 SD on the same side;
- ``10-x`` (rejection): this point and the nine before are all on the same side of the mean
  (a point exactly on the mean breaks the run).

A series is accepted when no point of the current run (``history`` points before it are
earlier runs, context for the multi-point rules only) violates a rejection rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

WARNING = "1-2s"
R_1_3S = "1-3s"
R_2_2S = "2-2s"
R_R_4S = "R-4s"
R_4_1S = "4-1s"
R_10X = "10-x"
REJECTION_RULES = (R_1_3S, R_2_2S, R_R_4S, R_4_1S, R_10X)
ALL_RULES = (WARNING, *REJECTION_RULES)


class WestgardError(ValueError):
    """Input the rules cannot be applied to (no values, an SD that is not positive)."""


@dataclass(frozen=True)
class Point:
    value: Decimal
    z: Decimal
    rules: tuple[str, ...]

    @property
    def rejected(self) -> bool:
        return any(r in REJECTION_RULES for r in self.rules)

    @property
    def warning(self) -> bool:
        return WARNING in self.rules


@dataclass(frozen=True)
class Evaluation:
    points: tuple[Point, ...]
    history: int = 0

    @property
    def run(self) -> tuple[Point, ...]:
        return self.points[self.history :]

    @property
    def accepted(self) -> bool:
        return not any(p.rejected for p in self.run)

    @property
    def violated(self) -> tuple[str, ...]:
        """The rules violated in the current run, in the order of :data:`ALL_RULES`."""
        seen = {r for p in self.run for r in p.rules}
        return tuple(r for r in ALL_RULES if r in seen)


def z_score(value: Decimal, mean: Decimal, sd: Decimal) -> Decimal:
    if sd <= 0:
        raise WestgardError("The SD must be greater than zero.")
    return (value - mean) / sd


def _same_side_beyond(zs: Sequence[Decimal], limit: int) -> bool:
    return all(z > limit for z in zs) or all(z < -limit for z in zs)


def rules_at(zs: Sequence[Decimal], i: int) -> tuple[str, ...]:
    """The rules the point ``i`` of the z-series ``zs`` completes."""
    z = zs[i]
    out = []
    if abs(z) > 2:
        out.append(WARNING)
    if abs(z) > 3:
        out.append(R_1_3S)
    if i >= 1:
        pair = zs[i - 1 : i + 1]
        if _same_side_beyond(pair, 2):
            out.append(R_2_2S)
        if (pair[0] > 2 and pair[1] < -2) or (pair[0] < -2 and pair[1] > 2):
            out.append(R_R_4S)
    if i >= 3 and _same_side_beyond(zs[i - 3 : i + 1], 1):
        out.append(R_4_1S)
    if i >= 9 and _same_side_beyond(zs[i - 9 : i + 1], 0):
        out.append(R_10X)
    return tuple(out)


def evaluate(
    values: Sequence[Decimal], mean: Decimal, sd: Decimal, *, history: int = 0
) -> Evaluation:
    """Apply the rules to ``values`` (oldest first); the first ``history`` are earlier runs."""
    if not values:
        raise WestgardError("Give at least one value.")
    if sd <= 0:
        raise WestgardError("The SD must be greater than zero.")
    if not 0 <= history < len(values):
        raise WestgardError("The history must leave at least one value in the current run.")
    for v in (*values, mean, sd):
        if not isinstance(v, Decimal) or not v.is_finite():
            raise WestgardError("Every number must be finite.")
    zs = [z_score(v, mean, sd) for v in values]
    points = tuple(
        Point(v, z, rules_at(zs, i)) for i, (v, z) in enumerate(zip(values, zs, strict=True))
    )
    return Evaluation(points, history)


def parse_values(text: str) -> list[Decimal]:
    """``"10.1,9.8, 10.4"`` → Decimals (a decimal point; commas separate the values)."""
    out = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            raise WestgardError("Give the values separated by commas, with no empty item.")
        out.append(parse_one(part, "value"))
    return out


def parse_one(text: str, what: str) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise WestgardError(f"The {what} “{text}” is not a number.") from None
    if not number.is_finite():
        raise WestgardError(f"The {what} “{text}” is not a finite number.")
    return number


def as_json(evaluation: Evaluation, mean: Decimal, sd: Decimal) -> dict[str, object]:
    """What ``lims qc westgard`` prints."""
    return {
        "mean": str(mean),
        "sd": str(sd),
        "history": evaluation.history,
        "points": [
            {
                "index": i,
                "value": str(p.value),
                "z": float(round(p.z, 4)),
                "rules": list(p.rules),
                "history": i < evaluation.history,
            }
            for i, p in enumerate(evaluation.points)
        ],
        "violated": list(evaluation.violated),
        "accepted": evaluation.accepted,
    }
