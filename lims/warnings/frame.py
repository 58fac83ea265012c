"""The administrative frame (Decree 30/2020/NĐ-CP) of a warning: the association as issuing
body, "<id>/TB-<symbol>" as number and symbol, place and date of publication, the approver's
function and the recipients, all from the settings (``LIMS_ASSOCIATION_*``, ``LIMS_ADMIN_*``,
``LIMS_WARNING_RECIPIENTS``)."""

from __future__ import annotations

from flask import current_app

from lims.extensions import utcnow
from lims.i18n import local_time
from lims.pdf.admin import AdminHeader, document_number

from .models import ConsumerWarning
from .pdf import AdminFrame

KIND_SYMBOL = "TB"  # thông báo


def recipients(setting: str) -> list[str]:
    return [item.strip() for item in (setting or "").split(";") if item.strip()]


def warning_frame(warning: ConsumerWarning) -> AdminFrame:
    cfg = current_app.config
    day = local_time(warning.published_at or utcnow()).date()
    number = document_number(
        cfg["ADMIN_NUMBER_PATTERN"], number=str(warning.id), kind=KIND_SYMBOL,
        symbol=cfg["ASSOCIATION_SYMBOL"], year=day.year,
    )  # fmt: skip
    header = AdminHeader(
        issuing_body=cfg["ASSOCIATION_NAME"],
        parent_body=cfg.get("ASSOCIATION_PARENT_BODY", ""),
        number=number,
        place=cfg["ADMIN_PLACE"],
        day=day,
    )
    return AdminFrame(
        header,
        [cfg["ASSOCIATION_SIGNER_FUNCTION"]],
        recipients(cfg.get("WARNING_RECIPIENTS", "")),
    )
