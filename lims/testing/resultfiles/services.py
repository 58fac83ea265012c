"""Result files: kept under their SHA-256, a preview that sorts every row into matched,
unmatched and suspicious, and an import of every matched row or none (the mappings they are
read with: :mod:`lims.testing.resultfiles.mappings`).

Nothing is entered at upload or preview. The import re-reads the kept file with its mapping in
the caller's unit of work, refuses the whole file while any row is suspicious, and enters each
value through :func:`lims.testing.entry.enter_result` (its checks: sample and test state,
method, decimals, LOD/LOQ, working range, plausible range, audit event) with the file's id and
row as the result's source (:mod:`lims.testing.provenance`). The results arrive ``entered``,
waiting for a second person's verification.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from lims import audit, storage
from lims.auth.permissions import require_role
from lims.catalog.lookups import remembered
from lims.catalog.models import Parameter, ParameterMethod, ResultType
from lims.equipment.calibration import usability
from lims.extensions import db, utcnow
from lims.i18n import current_language, format_datetime, local_time
from lims.intake.models import Sample, SampleTest, TestStatus
from lims.testing import evaluation
from lims.testing.entry import (
    MAX_STORED_VALUE,
    bulk_entry,
    check_entry_allowed,
    enter_result,
    method_for_entry,
)
from lims.testing.errors import ResultError

from .cells import units_match
from .errors import ResultFileRefused
from .mappings import parameters_by_code
from .models import ResultFile, ResultFileMapping, ResultFileStatus
from .parse import parse_result_file
from .spec import FileRow, ParameterEntry, ResultFileError

IMPORT_ROLES = ("technician", "reviewer")


MATCHED, UNMATCHED, SUSPICIOUS = "matched", "unmatched", "suspicious"


def _catalogue_names() -> list[ParameterEntry]:
    """Every active parameter by its code and names: tried after the mapping's own names."""
    rows = db.session.execute(
        sa.select(Parameter.code, Parameter.name_vi, Parameter.name_en).where(
            Parameter.active.is_(True)
        )
    ).all()
    out = []
    for code, name_vi, name_en in rows:
        out.extend(ParameterEntry(n, code) for n in (code, name_vi, name_en) if n)
    return out


def read_file(data: bytes, mapping: ResultFileMapping, filename: str = "") -> list[FileRow]:
    """The rows of ``data`` read with ``mapping`` (:class:`ResultFileRefused` when unreadable)."""
    try:
        parsed = parse_result_file(
            data, mapping.spec(), filename=filename, extra=_catalogue_names()
        )
    except ResultFileError as exc:
        raise ResultFileRefused(exc.message, "file") from None
    return parsed.rows


def upload(*, actor: Any, data: bytes, filename: str, mapping: ResultFileMapping) -> ResultFile:
    """Keep an uploaded export (once per SHA-256) with the mapping to read it with. A file the
    mapping cannot read is refused and not kept; a file already imported is refused."""
    require_role(actor, *IMPORT_ROLES)
    if not mapping.active:
        raise ResultFileRefused(_l("This mapping is no longer in use."), "mapping")
    filename = (filename or "").strip()[:300] or "result-file"
    read_file(data, mapping, filename)
    sha = storage.sha256_hex(data)
    existing = db.session.scalar(sa.select(ResultFile).where(ResultFile.sha256 == sha))
    if existing is not None:
        if existing.status == ResultFileStatus.IMPORTED:
            raise _already_imported(existing)
        existing.mapping_id = mapping.id
        db.session.flush()
        return existing
    column, sha = storage.keep(data)
    row = ResultFile(
        sha256=sha,
        data=column,
        filename=filename,
        size=len(data),
        mapping_id=mapping.id,
        uploaded_by_id=actor.id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor=actor,
        action="resultfile.upload",
        entity_type="result_file",
        entity_id=row.id,
        after={"filename": row.filename, "sha256": sha, "size": row.size, "mapping": mapping.name},
    )
    return row


def _already_imported(row: ResultFile) -> ResultFileRefused:
    return ResultFileRefused(
        _l(
            "This file was already imported (%(name)s, %(when)s).",
            name=row.filename,
            when=format_datetime(row.imported_at) if row.imported_at else "",
        ),
        "file",
    )


def file_bytes(row: ResultFile) -> bytes:
    """The kept bytes, checked against their SHA-256."""
    return storage.load(row.data, row.sha256, what=f"result file {row.id}")


@dataclass(frozen=True)
class PreviewRow:
    row: FileRow
    status: str  # matched, unmatched, suspicious
    reason: str = ""
    parameter: Parameter | None = None
    test: SampleTest | None = None
    shown: str = ""  # the value as it will be recorded
    method: ParameterMethod | None = None  # the parameter × method it will record


@dataclass
class Preview:
    rows: list[PreviewRow]
    problems: list[str] = field(default_factory=list)  # the whole file (instrument unusable)

    def of(self, status: str) -> list[PreviewRow]:
        return [r for r in self.rows if r.status == status]

    @property
    def counts(self) -> dict[str, int]:
        out = {MATCHED: 0, UNMATCHED: 0, SUSPICIOUS: 0}
        for r in self.rows:
            out[r.status] += 1
        return out

    @property
    def ready(self) -> bool:
        counts = self.counts
        return not self.problems and counts[SUSPICIOUS] == 0 and counts[MATCHED] > 0


def _instrument_problems(mapping: ResultFileMapping) -> list[str]:
    instrument = mapping.instrument
    if instrument is None:
        return []
    usable = usability(instrument, local_time(utcnow()).date())
    if usable.usable:
        return []
    return [
        str(
            _l(
                "%(name)s cannot be used for results: %(reason)s.",
                name=instrument.name,
                reason=usable.reason(current_language()),
            )
        )
    ]


def preview(row: ResultFile, *, evaluate: bool = True) -> Preview:
    """Every row of the kept file, matched against samples, tests and the catalogue, and each
    matched value evaluated as the entry service will evaluate it (``evaluate=False``: left to
    the entry itself, as the import does). Changes nothing."""
    mapping = row.mapping
    rows = read_file(file_bytes(row), mapping, row.filename)
    codes = {r.sample_code for r in rows if r.sample_code}
    samples = {
        s.code: s
        for s in db.session.scalars(
            sa.select(Sample)
            .where(Sample.code.in_(codes))
            .options(selectinload(Sample.tests).selectinload(SampleTest.parameter))
        )
    }
    parameters = parameters_by_code([r.parameter_code for r in rows if r.parameter_code])
    methods: dict[tuple[int, int], Any] = {}
    with remembered():
        out = [_classify(r, samples, parameters, methods, evaluate) for r in rows]
    return Preview(out, _instrument_problems(mapping))


def _tests_by_parameter(sample: Sample) -> dict[int, SampleTest]:
    out: dict[int, SampleTest] = {}
    for test in sample.tests:
        if test.status != TestStatus.RETRACTED:
            out[test.parameter_id] = test
    return out


_STATE_WORDS = {
    TestStatus.ENTERED: _l("already has a result (entered)"),
    TestStatus.VERIFIED: _l("already has a verified result"),
}


def _classify(
    r: FileRow,
    samples: Mapping[str, Sample],
    parameters: Mapping[str, Parameter],
    methods: dict[tuple[int, int], Any],
    evaluate: bool = True,
) -> PreviewRow:
    if r.sample_code is None:
        why = (
            _l("No sample code.")
            if not r.sample_text
            else _l("Not a sample code (a standard, blank or check?).")
        )
        return PreviewRow(r, UNMATCHED, str(why))
    if r.parameter_code is None:
        return PreviewRow(r, UNMATCHED, str(_l("Not a parameter of the mapping or the catalogue.")))
    parameter = parameters.get(r.parameter_code)
    if parameter is None:
        why = _l("No parameter with the code “%(code)s” in the catalogue.", code=r.parameter_code)
        return PreviewRow(r, SUSPICIOUS, str(why))
    if r.problem:
        return PreviewRow(r, SUSPICIOUS, r.problem, parameter)
    sample = samples.get(r.sample_code)
    if sample is None:
        return PreviewRow(r, SUSPICIOUS, str(_l("Unknown sample code.")), parameter)
    test = _tests_by_parameter(sample).get(parameter.id)
    if test is None:
        why = _l(
            "Sample %(code)s has no test of %(param)s.", code=sample.code, param=parameter.name_vi
        )
        return PreviewRow(r, SUSPICIOUS, str(why), parameter)
    if test.status != TestStatus.PENDING:
        why = _l(
            "%(code)s · %(param)s %(state)s.",
            code=sample.code,
            param=parameter.name_vi,
            state=_STATE_WORDS.get(test.status, test.status.value),
        )
        return PreviewRow(r, SUSPICIOUS, str(why), parameter, test)
    if parameter.formula or parameter.result_type == ResultType.NET_QUANTITY:
        why = _l(
            "%(param)s is calculated from its inputs: enter them on the worksheet.",
            param=parameter.name_vi,
        )
        return PreviewRow(r, SUSPICIOUS, str(why), parameter, test)
    if not units_match(r.unit, parameter.unit):
        why = _l(
            "Unit mismatch: the file gives %(unit)s, the catalogue records %(expected)s.",
            unit=r.unit,
            expected=parameter.unit or "—",
        )
        return PreviewRow(r, SUSPICIOUS, str(why), parameter, test)
    try:
        check_entry_allowed(test)
        key = (sample.category_id, parameter.id)
        if key not in methods:
            methods[key] = method_for_entry(test, None)
        if not evaluate:
            return PreviewRow(r, MATCHED, "", parameter, test, r.value or "", methods[key])
        evaluated = evaluation.evaluate_entry(
            sample, parameter, r.value or "", method=methods[key], point_is_decimal=True
        )
        if evaluated.value is not None and abs(evaluated.value) >= MAX_STORED_VALUE:
            raise ResultError(_l("The result is too large to store."), "value")
    except ResultError as exc:
        return PreviewRow(r, SUSPICIOUS, str(exc.message), parameter, test)
    shown = (evaluated.qualifier + " " if evaluated.qualifier in ("<", ">") else "") + (
        format(evaluated.value, "f") if evaluated.value is not None else evaluated.text
    )
    if evaluated.qualifier == "ND":
        shown = str(_l("not detected"))
    return PreviewRow(r, MATCHED, "", parameter, test, shown, methods[key])


def import_file(*, actor: Any, result_file: ResultFile) -> int:
    """Enter every matched row of the kept file, or nothing: refused while any row is
    suspicious, the instrument cannot be used, or the file was imported already. Each result
    names the file and its row (its source); one ``resultfile.import`` event for the file."""
    require_role(actor, *IMPORT_ROLES)
    row = db.session.execute(
        sa.select(ResultFile).where(ResultFile.id == result_file.id).with_for_update()
    ).scalar_one()
    db.session.refresh(row)
    if row.status == ResultFileStatus.IMPORTED:
        raise _already_imported(row)
    checked = preview(row, evaluate=False)  # each value is evaluated as it is entered
    if checked.problems:
        raise ResultFileRefused(checked.problems[0])
    suspicious = checked.of(SUSPICIOUS)
    if suspicious:
        first = suspicious[0]
        raise ResultFileRefused(
            _l(
                "Nothing was imported: %(n)d rows are suspicious (first: row %(row)d, "
                "%(why)s). Correct the file or the mapping and upload it again.",
                n=len(suspicious),
                row=first.row.row,
                why=first.reason,
            )
        )
    matched = checked.of(MATCHED)
    if not matched:
        raise ResultFileRefused(_l("No row of this file matches a test waiting for a result."))
    # the catalogue read once, the audit chain locked once, the rows written in one flush
    tests = [item.test for item in matched if item.test is not None]
    with remembered(), bulk_entry(tests):
        for item in matched:
            assert item.test is not None
            try:
                enter_result(
                    actor=actor,
                    test=item.test,
                    text=item.row.value or "",
                    parameter_method_id=item.method.id if item.method else None,
                    source={"result_file_id": row.id, "result_file_row": item.row.row},
                )
            except ResultError as exc:  # the caller's unit of work rolls every row back
                raise ResultFileRefused(
                    _l(
                        "Nothing was imported: row %(row)d, %(why)s",
                        row=item.row.row,
                        why=exc.message,
                    )
                ) from None
    row.status = ResultFileStatus.IMPORTED
    row.imported_by_id = actor.id
    row.imported_at = utcnow()
    row.result_count = len(matched)
    db.session.flush()
    audit.record(
        actor=actor,
        action="resultfile.import",
        entity_type="result_file",
        entity_id=row.id,
        after={
            "filename": row.filename,
            "sha256": row.sha256,
            "mapping": row.mapping.name,
            "results": len(matched),
            "unmatched": len(checked.of(UNMATCHED)),
        },
    )
    return len(matched)
