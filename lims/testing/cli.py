"""``lims judge``: check a decision rule from the command line, with no data touched."""

from __future__ import annotations

import json
from decimal import Decimal

import click

from lims.rules import decision, guardband, limits, verdicts
from lims.rules.numbers import NumberParseError, parse_decimal, parse_number

RULES = {
    "simple": verdicts.DecisionRule.SIMPLE,
    "guard-binary": verdicts.DecisionRule.GUARD_BAND_BINARY,
    "guard-nonbinary": verdicts.DecisionRule.GUARD_BAND_NON_BINARY,
}


def _decimal(option: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return parse_decimal(text)
    except NumberParseError as exc:
        raise click.BadParameter(exc.message("en"), param_hint=option) from None


def acceptance_limits(
    limit: limits.NumericLimit, guard_band: Decimal | None
) -> list[dict[str, str]]:
    """Where the verdict changes: each tolerance limit moved inwards by w (ILAC-G8 AL = TL ∓ w)."""
    w = guard_band or Decimal(0)
    out = []
    if limit.lower is not None:
        out.append(
            {"side": "lower", "tolerance": str(limit.lower), "acceptance": str(limit.lower + w)}
        )
    if limit.upper is not None:
        out.append(
            {"side": "upper", "tolerance": str(limit.upper), "acceptance": str(limit.upper - w)}
        )
    return out


@click.command("judge")
@click.option("--value", required=True, help="As a person types it: 0,25  <0,05  KPH  >200")
@click.option("--uncertainty", help="Expanded uncertainty U (absolute, same unit).")
@click.option("--lower", help="Lower tolerance limit.")
@click.option("--upper", help="Upper tolerance limit.")
@click.option("--rule", type=click.Choice(sorted(RULES)), default="simple", show_default=True)
@click.option("--guard-factor", "guard_factor", default="1", show_default=True, help="r in w = r·U")
@click.option("--lod", help="Limit of detection.")
@click.option("--loq", help="Limit of quantification.")
@click.option("--exclusive", is_flag=True, help="Limits exclusive (< and >) instead of ≤ and ≥.")
@click.option(
    "--decimals",
    type=click.IntRange(0, 10),
    default=None,
    help="Reporting decimals of the method: the value is rounded before it is judged.",
)
def judge_command(
    value: str,
    uncertainty: str | None,
    lower: str | None,
    upper: str | None,
    rule: str,
    guard_factor: str,
    lod: str | None,
    loq: str | None,
    exclusive: bool,
    decimals: int | None,
) -> None:
    """Print the verdict for one value as JSON, using the same rules as the lab's results.

    Numbers are read as a person types them: "1.500" is refused (1 500 or 1,500?)."""
    lod_d, loq_d = _decimal("--lod", lod), _decimal("--loq", loq)
    lower_d, upper_d = _decimal("--lower", lower), _decimal("--upper", upper)
    u = _decimal("--uncertainty", uncertainty)
    r = _decimal("--guard-factor", guard_factor)
    if lower_d is None and upper_d is None:
        raise click.UsageError("Give --lower, --upper or both.")
    if r is not None and r < 0:
        raise click.BadParameter("r cannot be negative.", param_hint="--guard-factor")
    try:
        parsed = parse_number(value, lod=lod_d, loq=loq_d)
    except NumberParseError as exc:
        raise click.BadParameter(exc.message("en"), param_hint="--value") from None
    try:
        limit = limits.NumericLimit(
            lower=lower_d,
            upper=upper_d,
            lower_inclusive=not exclusive,
            upper_inclusive=not exclusive,
        )
        if RULES[rule] != verdicts.DecisionRule.SIMPLE and u is None:
            raise click.UsageError("A guard-band rule needs --uncertainty.")
        w = r * u if u is not None and RULES[rule] != verdicts.DecisionRule.SIMPLE else None
        guardband.check_guard_band(limit, u, w)
        judgement = decision.judge_numeric(
            parsed, limit, rule=RULES[rule], uncertainty=u, r=r, lod=lod_d, decimals=decimals
        )
    except guardband.GuardBandError as exc:
        raise click.UsageError(exc.message("en")) from None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(
        json.dumps(
            {
                "verdict": str(judgement.verdict),
                "acceptance_limits": acceptance_limits(limit, judgement.guard_band),
                "rule": str(RULES[rule]),
                "decimals": decimals,
                "guard_band": None if judgement.guard_band is None else str(judgement.guard_band),
                "reason": judgement.reason_en,
                "reason_vi": judgement.reason_vi,
            },
            ensure_ascii=False,
        )
    )
