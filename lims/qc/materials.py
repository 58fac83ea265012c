"""QC materials, their lots and acceptance criteria: the catalogue side of QC."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.catalog.models import ParameterMethod
from lims.errors import DomainError
from lims.extensions import db
from lims.i18n import current_language
from lims.rules.numbers import NumberParseError, parse_decimal

from .models import CHARTED_KINDS, MaterialKind, QcAcceptance, QcLot, QcMaterial

MANAGERS = ("reviewer", "admin")


class QcError(DomainError):
    """A refused QC operation; ``message`` is shown next to ``field``."""


def kind_label(kind: MaterialKind | str) -> Any:
    return {
        MaterialKind.CRM: _l("Certified reference material"),
        MaterialKind.RM: _l("Reference material"),
        MaterialKind.BLANK: _l("Blank"),
        MaterialKind.SPIKE: _l("Spike"),
        MaterialKind.DUPLICATE: _l("Duplicate"),
        MaterialKind.REAGENT: _l("Reagent"),
        MaterialKind.STANDARD: _l("Standard"),
    }.get(MaterialKind(kind), str(kind))


def number(value: str | Decimal | None, field: str, *, positive: bool = False) -> Decimal | None:
    """A number typed by a person (``0,25``), or None when empty."""
    if value is None or isinstance(value, Decimal):
        parsed = value
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            parsed = parse_decimal(text)
        except NumberParseError as exc:
            raise QcError(exc.message(current_language()), field) from None
    if parsed is not None and not parsed.is_finite():
        raise QcError(_l("Enter a number."), field)
    if parsed is not None and abs(parsed) >= Decimal(10) ** 12:
        raise QcError(_l("The number is too large."), field)
    if positive and parsed is not None and parsed <= 0:
        raise QcError(_l("Enter a number greater than zero."), field)
    return parsed


def _text(value: str | None, field: str, *, required: bool = False, limit: int = 200) -> str:
    text = (value or "").strip()
    if required and not text:
        raise QcError(_l("This field is required."), field)
    if len(text) > limit:
        raise QcError(_l("Too long (at most %(n)d characters).", n=limit), field)
    return text


def create_material(
    *, actor: Any, code: str, name: str, kind: str, producer: str = "", notes: str = ""
) -> QcMaterial:
    require_role(actor, *MANAGERS)
    code = _text(code, "code", required=True, limit=40)
    name = _text(name, "name", required=True)
    try:
        kind_value = MaterialKind(kind)
    except ValueError:
        raise QcError(_l("Choose the kind of material."), "kind") from None
    if db.session.scalar(sa.select(QcMaterial.id).where(QcMaterial.code == code)):
        raise QcError(_l("A material with this code exists."), "code")
    material = QcMaterial(
        code=code,
        name=name,
        kind=kind_value,
        producer=_text(producer, "producer"),
        notes=_text(notes, "notes", limit=2000),
    )
    db.session.add(material)
    db.session.flush()
    audit.record(
        actor=actor,
        action="qc.material.create",
        entity_type="qc_material",
        entity_id=material.code,
        after={"name": name, "kind": kind_value.value, "producer": material.producer},
    )
    return material


def add_lot(
    *,
    actor: Any,
    material: QcMaterial,
    lot_number: str,
    expires_on: date | None,
    supplier: str = "",
    certificate: str = "",
    received_on: date | None = None,
) -> QcLot:
    require_role(actor, *MANAGERS)
    lot_number = _text(lot_number, "lot_number", required=True, limit=80)
    if expires_on is None:
        raise QcError(_l("Give the expiry date of the lot."), "expires_on")
    if received_on is not None and received_on > expires_on:
        raise QcError(_l("The lot expires before it was received."), "expires_on")
    exists = db.session.scalar(
        sa.select(QcLot.id).where(QcLot.material_id == material.id, QcLot.lot_number == lot_number)
    )
    if exists:
        raise QcError(_l("This material already has a lot with this number."), "lot_number")
    lot = QcLot(
        material_id=material.id,
        lot_number=lot_number,
        supplier=_text(supplier, "supplier"),
        certificate=_text(certificate, "certificate"),
        expires_on=expires_on,
        received_on=received_on,
    )
    db.session.add(lot)
    db.session.flush()
    audit.record(
        actor=actor,
        action="qc.lot.add",
        entity_type="qc_material",
        entity_id=material.code,
        after={
            "lot": lot_number,
            "supplier": lot.supplier,
            "certificate": lot.certificate,
            "expires_on": expires_on,
            "received_on": received_on,
        },
    )
    return lot


def usable_lot(lot: QcLot, day: date) -> QcLot:
    """The lot, when it may be used on ``day``; an expired lot is refused."""
    if lot.expired_on(day):
        raise QcError(
            _l(
                "Lot %(lot)s of %(material)s expired on %(date)s and cannot be used.",
                lot=lot.lot_number,
                material=lot.material.name,
                date=lot.expires_on.strftime("%d/%m/%Y"),
            ),
            "lot",
        )
    return lot


def set_acceptance(
    *,
    actor: Any,
    material: QcMaterial,
    parameter_method: ParameterMethod,
    certified_value: str | Decimal | None = None,
    certified_uncertainty: str | Decimal | None = None,
    target: str | Decimal | None = None,
    sd: str | Decimal | None = None,
    establish_runs: int | None = None,
    rpd_limit: str | Decimal | None = None,
    recovery_low: str | Decimal | None = None,
    recovery_high: str | Decimal | None = None,
    blank_limit: str | Decimal | None = None,
) -> QcAcceptance:
    """Record (or change) how ``material`` is judged for a parameter × method. A chart
    material needs a target and SD (the target defaults to the certified value), or the
    number of first runs that establish them."""
    require_role(actor, *MANAGERS)
    values = {
        "certified_value": number(certified_value, "certified_value"),
        "certified_uncertainty": number(certified_uncertainty, "certified_uncertainty"),
        "target": number(target, "target"),
        "sd": number(sd, "sd", positive=True),
        "rpd_limit": number(rpd_limit, "rpd_limit", positive=True),
        "recovery_low": number(recovery_low, "recovery_low"),
        "recovery_high": number(recovery_high, "recovery_high"),
        "blank_limit": number(blank_limit, "blank_limit"),
    }
    if values["target"] is None:
        values["target"] = values["certified_value"]
    if establish_runs is not None and not 2 <= establish_runs <= 100:
        raise QcError(_l("Establish the target from 2 to 100 runs."), "establish_runs")
    kind = material.kind
    if kind in CHARTED_KINDS:
        given = values["target"] is not None and values["sd"] is not None
        if not given and establish_runs is None:
            raise QcError(
                _l("Give the target and SD, or the number of first runs that establish them."),
                "sd",
            )
        if given:
            establish_runs = None
    elif kind == MaterialKind.DUPLICATE and values["rpd_limit"] is None:
        raise QcError(_l("Give the largest acceptable RPD (%)."), "rpd_limit")
    elif kind == MaterialKind.SPIKE and values["recovery_low"] is None:
        raise QcError(_l("Give the acceptable recovery range (%)."), "recovery_low")
    low, high = values["recovery_low"], values["recovery_high"]
    if low is not None and high is not None and low > high:
        raise QcError(_l("The lower recovery limit is above the upper one."), "recovery_high")
    if kind in (MaterialKind.REAGENT, MaterialKind.STANDARD):
        raise QcError(_l("Reagents and standards are recorded on batches, not judged."), "kind")
    row = db.session.scalar(
        sa.select(QcAcceptance).where(
            QcAcceptance.material_id == material.id,
            QcAcceptance.parameter_method_id == parameter_method.id,
        )
    )
    before = None if row is None else _acceptance_snapshot(row)
    if row is None:
        row = QcAcceptance(material_id=material.id, parameter_method_id=parameter_method.id)
        db.session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    row.establish_runs = establish_runs
    db.session.flush()
    audit.record(
        actor=actor,
        action="qc.acceptance.set",
        entity_type="qc_material",
        entity_id=material.code,
        before=before,
        after={
            "parameter": parameter_method.parameter.code,
            "method": parameter_method.method.code,
            **_acceptance_snapshot(row),
        },
    )
    return row


def _acceptance_snapshot(row: QcAcceptance) -> dict[str, Any]:
    keys = (
        "certified_value",
        "certified_uncertainty",
        "target",
        "sd",
        "establish_runs",
        "rpd_limit",
        "recovery_low",
        "recovery_high",
        "blank_limit",
    )
    return {k: getattr(row, k) for k in keys}


def acceptance_for(material_id: int, parameter_method_id: int) -> QcAcceptance | None:
    return db.session.scalar(
        sa.select(QcAcceptance).where(
            QcAcceptance.material_id == material_id,
            QcAcceptance.parameter_method_id == parameter_method_id,
        )
    )


def list_materials() -> list[QcMaterial]:
    return list(db.session.scalars(sa.select(QcMaterial).order_by(QcMaterial.code)))


def acceptances() -> list[QcAcceptance]:
    return list(db.session.scalars(sa.select(QcAcceptance).order_by(QcAcceptance.id)))
