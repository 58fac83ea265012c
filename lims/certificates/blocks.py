"""Parts of a certificate's content that come from the method catalogue and the records of a
sample: the method and accreditation scope of each line, the net-quantity statement, the
deviations and conditions, and the record of what was printed (for amendments).

Called by :func:`lims.certificates.content.build_content`; no PDF drawing here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from lims.catalog import places
from lims.catalog.models import AdminUnit, ParameterMethod, ResultType
from lims.catalog.units import unit_label
from lims.extensions import db
from lims.i18n import local_time
from lims.intake.models import Business, Sample
from lims.rules.numbers import format_bound, format_decimal
from lims.rules.statement import Statement
from lims.testing import deviations
from lims.testing.models import Result

from . import document


@dataclass(frozen=True)
class MethodOfLine:
    """The method a result records and what it means for the certificate."""

    reference: str  # printed in the method column ("" only for results entered before 0013)
    in_scope: bool  # within the lab's accreditation scope on the test date
    accreditation_ref: str  # "VILAS 123" when in scope
    subcontractor: str  # "" = performed by the lab


def method_of(result: Result) -> MethodOfLine:
    pm: ParameterMethod | None = result.parameter_method
    if pm is None:
        return MethodOfLine("", False, "", "")
    tested_on: date = local_time(result.entered_at).date()
    ref = pm.accreditation_ref or current_app.config.get("LAB_ACCREDITATION", "")
    in_scope = pm.in_scope(tested_on) and bool(ref)
    return MethodOfLine(pm.method.standard_ref, in_scope, ref if in_scope else "", pm.subcontractor)


def accreditation_claim(methods: Sequence[MethodOfLine]) -> str:
    """The accreditation number(s) to print: those of the lines within scope; "" when no line is
    (ILAC-P8: no claim on a report whose results are all outside the scope)."""
    refs = sorted({m.accreditation_ref for m in methods if m.in_scope and m.accreditation_ref})
    return "; ".join(refs)


def place_of(business: Business, day: date) -> str:
    """Where the sample was taken, with the administrative units in force on the sampling day
    (the written ward and district when the business is not linked to the reference table)."""
    unit = db.session.get(AdminUnit, business.unit_id) if business.unit_id else None
    if unit is not None and places.unit_on(unit, day) is not None:
        return places.place_line([business.name, business.address], unit, day)
    return ", ".join(
        x for x in (business.name, business.address, business.ward, business.district) if x
    )


def _places(texts: Sequence[str]) -> int:
    places = 0
    for text in texts:
        exponent = Decimal(text).as_tuple().exponent
        if isinstance(exponent, int) and exponent < 0:
            places = max(places, -exponent)
    return places


def net_quantity_block(
    result: Result, parameter_vi: str, parameter_en: str, statement: Statement
) -> document.NetQuantityBlock | None:
    """The full statement of a net-quantity result (None for a result entered before its
    interim data held the whole statement). Its conclusion is the stored ``statement``, never
    the criteria read again: without a statement it says none is made, and why."""
    data: Mapping[str, Any] = result.interim or {}
    needed = ("nominal", "n", "k", "c", "mean", "std_dev", "t", "average_limit", "t1_limit")
    if not all(key in data for key in needed):
        return None
    d = result.decimals
    if d is None:
        d = _places([data["nominal"], *data.get("weighings", [])]) + 1

    def num(key: str, places: int | None = d) -> str:
        return format_decimal(Decimal(str(data[key])), "vi", places)

    t = Decimal(str(data["t"]))
    return document.NetQuantityBlock(
        parameter_vi=parameter_vi,
        parameter_en=parameter_en,
        unit=unit_label(data.get("unit") or "", "vi"),
        nominal=format_bound(Decimal(str(data["nominal"])), "vi"),
        n=int(data["n"]),
        k=format_bound(Decimal(str(data["k"])), "vi"),
        c=int(data["c"]),
        mean=num("mean"),
        std_dev=num("std_dev"),
        t=format_bound(t, "vi"),
        average_limit=num("average_limit"),
        t1_limit=format_bound(Decimal(str(data["t1_limit"])), "vi"),
        t2_limit=format_bound(Decimal(str(data["t2_limit"])), "vi"),
        t1_count=int(data["t1_defectives"]),
        t2_count=int(data["t2_defectives"]),
        average_ok=bool(data.get("average_ok")),
        t1_ok=bool(data.get("t1_ok")),
        t2_ok=bool(data.get("t2_ok")),
        conclusion_vi=_net_conclusion(statement, "vi"),
        conclusion_en=_net_conclusion(statement, "en"),
        weighings=tuple(Decimal(str(w)) for w in data.get("weighings") or ()),
        marks=(Decimal(str(data["nominal"])), Decimal(str(data["t1_limit"])),
               Decimal(str(data["t2_limit"]))) if "t2_limit" in data else None,
    )  # fmt: skip


def _net_conclusion(statement: Statement, lang: str) -> str:
    if not statement.stated:
        head = (
            "No statement of conformity is made"
            if lang == "en"
            else "Không đưa ra tuyên bố về sự phù hợp"
        )
        return f"{head}: {statement.reason_text(lang)}"
    label = statement.label(lang)
    what = (
        "the quantity requirements for prepackages"
        if lang == "en"
        else "yêu cầu về lượng của hàng đóng gói sẵn"
    )
    return f"{label} — {what}"


def net_quantity_display(result: Result) -> str:
    """The results-table cell of a net-quantity line: "x̄ = 502,1" (the statement follows)."""
    data = result.interim or {}
    if "mean" not in data:
        return result.text_entered
    places = result.decimals
    if places is None:
        places = _places([str(data.get("nominal", "0")), *data.get("weighings", [])]) + 1
    return f"x̄ = {format_decimal(Decimal(str(data['mean'])), 'vi', places)}"


def is_net_quantity(result_type: ResultType) -> bool:
    return result_type == ResultType.NET_QUANTITY


def deviation_rows(sample: Sample, names: dict[int, tuple[str, str]]) -> deviations.DeviationLines:
    """The sample's deviations, "none" record and conditions, for the certificate."""
    return deviations.deviation_lines(sample, names)


def missing_conditions(
    sample: Sample, items: Sequence[tuple[int, ParameterMethod | None, str]]
) -> list[str]:
    """Parameters whose method requires recorded conditions that are not recorded:
    ``items`` = (test id, method, parameter name)."""
    out = []
    for test_id, pm, name in items:
        if (
            pm is not None
            and pm.method.conditions
            and not deviations.conditions_recorded(sample, test_id)
        ):
            out.append(f"{name} ({pm.method.standard_ref}: {pm.method.conditions})")
    return out


def missing_conditions_message(missing: Sequence[str]) -> Any:
    return _l(
        "Record the test conditions the method requires before issuing: %(items)s.",
        items="; ".join(missing),
    )


# ---------------------------------------------------------------------------- what was printed


def printed(content: document.CertificateContent) -> dict[str, Any]:
    """The fields of a certificate as printed (stored with it; an amendment lists the fields
    whose text differs)."""
    fields: dict[str, str] = {
        "Đơn vị yêu cầu|Requested by": content.customer,
        "Liên hệ|Contact": content.customer_contact,
        "Nơi thực hiện|Performed at": content.test_location,
    }
    for vi, en, value in content.sample_fields:
        fields[f"{vi}|{en}"] = value
    fields["Tình trạng mẫu khi nhận|Condition on receipt"] = content.sample_condition
    for line in content.results:
        cell = f"{line.result} {line.unit}".strip()
        if line.uncertainty:
            cell += f" (U = {line.uncertainty})"
        fields[f"{line.parameter_vi}|{line.parameter_en}"] = f"{cell}; {line.method}"
    devs = [vi for vi, _en in content.deviations] or (
        ["Không có"] if content.deviations_none else []
    )
    fields["Sai khác, bổ sung, loại trừ|Deviations, additions, exclusions"] = "; ".join(devs)
    fields["Điều kiện thử nghiệm|Test conditions"] = "; ".join(vi for vi, _ in content.conditions)
    fields["Kết luận|Conclusion"] = content.conclusion_vi
    return {"fields": fields, "language": content.language}


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(vi, en) lines "Số lô: trước đây L1; nay L2" for every printed field whose text changed
    (no arrow: the document font has none)."""
    if not before:
        return []
    old: Mapping[str, str] = before.get("fields", {})
    new: Mapping[str, str] = after.get("fields", {})
    out = []
    empty_vi, empty_en = "(không ghi)", "(none)"
    for key in list(old) + [k for k in new if k not in old]:
        a, b = old.get(key, ""), new.get(key, "")
        if a == b:
            continue
        vi, _sep, en = key.partition("|")
        out.append(
            (
                f"{vi}: trước đây {a or empty_vi}; nay {b or empty_vi}",
                f"{en or vi}: before {a or empty_en}; now {b or empty_en}",
            )
        )
    return out
