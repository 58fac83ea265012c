"""A warning as a document: the plain data the PDF renderers take, the association's
letterhead, and the preview of a draft or a warning in review."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lims.auth.permissions import require_role
from lims.catalog.citations import short_citation
from lims.certificates import numbering
from lims.certificates.models import Certificate
from lims.extensions import db, utcnow
from lims.i18n import format_date
from lims.intake.models import SamplePhoto
from lims.intake.sample_photos import photo_rendition
from lims.pdf import Letterhead

from . import pdf
from .common import AUTHORS, require_status
from .frame import warning_frame
from .models import ConsumerWarning, WarningStatus, warning_number


def association_letterhead() -> Letterhead:
    cfg = current_app.config
    hotline = cfg.get("ASSOCIATION_HOTLINE") or ""
    return Letterhead(
        lab_name=cfg.get("ASSOCIATION_NAME") or "",
        address=cfg.get("ASSOCIATION_ADDRESS") or "",
        contact=f"Đường dây nóng: {hotline}" if hotline else "",
    )


def _d(value: date | datetime | None) -> str:
    return format_date(value) if value is not None else ""


def failed_item(item: dict[str, Any], lang: str = "vi") -> pdf.FailedItem:
    """A stored failed line for the PDF (Vietnamese) or a page (``lang``): the English fields
    come from the catalogue's English names and the statement labels, when the line has them."""
    en = lang == "en"

    def pick(key: str) -> str:
        value = item.get(f"{key}_en") if en else None
        return str(value if value not in (None, "") else item.get(key) or "")

    regulation = str(item.get("regulation") or "")
    if "statement" not in item:  # a line stored before statements: the catalogue's own text
        regulation = short_citation(regulation)
    return pdf.FailedItem(
        parameter=pick("parameter"),
        result=pick("result"),
        unit=str(item.get("unit") or ""),
        limit=pick("limit"),
        regulation=regulation,
        rule=pick("rule"),
        verdict=pick("verdict"),
        acceptance=pick("acceptance"),
        within_legal_limit=bool(item.get("within_legal_limit")),
        citation=str(item.get("citation") or ""),
        certificate=str(item.get("certificate") or ""),
    )


def warning_doc(w: ConsumerWarning, *, with_photos: bool = True) -> pdf.WarningDoc:
    """The plain data of a warning for the PDF renderers."""
    photos: list[bytes] = []
    if with_photos and w.photo_ids:
        rows = db.session.scalars(
            sa.select(SamplePhoto).where(SamplePhoto.id.in_(list(w.photo_ids)))
        ).all()
        rows = sorted(rows, key=lambda p: list(w.photo_ids).index(p.id))
        renditions = (photo_rendition(p) for p in rows)  # upright, no metadata, bounded
        photos = [r for r in renditions if r is not None]
    refs = []
    for source in w.sources:
        cert = db.session.get(Certificate, source.certificate_id)
        code = cert.verification_code if cert else ""
        refs.append(pdf.CertificateRef(source.certificate_number, numbering.verification_url(code)))
    return pdf.WarningDoc(
        number=warning_number(w.id),
        title=w.title,
        product_name=w.product_name,
        brand=w.brand,
        batch=w.batch,
        production_date=_d(w.production_date),
        expiry_date=_d(w.expiry_date),
        seller_name=w.seller_name,
        seller_address=w.seller_address,
        manufacturer=w.manufacturer,
        failed=[failed_item(item) for item in w.failed_items or []],
        hazard_html=w.hazard,
        recommendation_html=w.recommendation,
        certificates=refs,
        published_on=_d(w.published_at or utcnow()),
        author_name=w.author.name if w.author else "",
        approver_name=w.approver.name if w.approver else "",
        photos=photos,
    )


def preview_warning(*, actor: Any, warning: ConsumerWarning) -> bytes:
    """The PDF a draft or a warning in review would be published as (same renderer, photos,
    QR codes), marked as a preview on every page; nothing stored, nothing audited."""
    require_role(actor, *AUTHORS)
    require_status(warning, WarningStatus.DRAFT, WarningStatus.IN_REVIEW)
    return pdf.render_warning(
        warning_doc(warning), letterhead=association_letterhead(), preview=True,
        frame=warning_frame(warning),
    )  # fmt: skip
