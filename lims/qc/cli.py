"""``lims qc``: quality control from the command line."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from lims.rules import westgard

qc_cli = AppGroup("qc", help="Internal quality control (Westgard rules).")


@qc_cli.command("westgard", with_appcontext=False)
@click.option("--values", required=True, help="Control values, oldest first: 10.2,9.9,10.6")
@click.option("--mean", required=True, help="Target (mean) of the control.")
@click.option("--sd", required=True, help="Standard deviation of the control (> 0).")
@click.option(
    "--history",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="How many of the first values are earlier runs (context for the multi-point rules; "
    "only the later ones decide acceptance).",
)
def westgard_command(values: str, mean: str, sd: str, history: int) -> None:
    """Apply the Westgard rules (1-2s warning; 1-3s, 2-2s, R-4s, 4-1s, 10-x rejection) and
    print JSON: each point's z-score and violated rules, and whether the run is accepted.
    Pure: no database is read or written."""
    try:
        m = westgard.parse_one(mean, "mean")
        s = westgard.parse_one(sd, "SD")
        evaluation = westgard.evaluate(westgard.parse_values(values), m, s, history=history)
    except westgard.WestgardError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(json.dumps(westgard.as_json(evaluation, m, s), ensure_ascii=False, indent=2))
