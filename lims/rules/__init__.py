"""Floor 1: the pure domain rules (``../shared/DESIGN.md`` §3, ``docs/development.md``).

No database, no Flask, no import of any other ``lims`` package: plain values in, plain values
out, tested directly (``tests/lims/rules/``).

* :mod:`~lims.rules.numbers` — a number typed by a person: parse (and record ids).
* :mod:`~lims.rules.rounding` — round, format and display a number.
* :mod:`~lims.rules.reported` — a stored result as reported (decimals, ``< LOQ``, ``KPH``).
* :mod:`~lims.rules.decision` — decision rules: judging a value against a limit (ILAC-G8).
* :mod:`~lims.rules.verdicts` — verdict and decision-rule codes, their order and labels.
* :mod:`~lims.rules.limits` — limits, sampling plans and uncertainty as the rules read them.
* :mod:`~lims.rules.guardband` — refusing a guard band or uncertainty without meaning.
* :mod:`~lims.rules.classes` — copper-strip corrosion classes.
* :mod:`~lims.rules.statement` — the statement of conformity the lab makes for a result.
* :mod:`~lims.rules.formulas` — calculated parameters (a safe evaluator, never ``eval``); the
  formula read by :mod:`~lims.rules.formula_parser`, refused with :mod:`~lims.rules.formula_errors`.
* :mod:`~lims.rules.netquantity` — net quantity of prepackaged goods (OIML R 87 plans).
* :mod:`~lims.rules.westgard` — Westgard/Shewhart control rules.
* :mod:`~lims.rules.qc_checks` — QC arithmetic: duplicates (RPD), spikes, blanks, mean and SD.
"""
