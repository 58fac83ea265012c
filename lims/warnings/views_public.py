"""The public pages under ``/public/`` (no login): published warnings and bulletins with
ETag/Last-Modified, their PDFs and photos, and the Atom feed."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any
from xml.etree import ElementTree as ET

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    g,
    make_response,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lims.auth.permissions import PUBLIC, access
from lims.catalog.models import Parameter
from lims.certificates import numbering
from lims.certificates.models import Certificate
from lims.extensions import db
from lims.i18n import current_language
from lims.intake.models import SamplePhoto
from lims.intake.sample_photos import photo_rendition
from lims.rules.dates import parse_date
from lims.rules.numbers import parse_id
from lims.rules.statement import StatementCode, statement_label
from lims.safetext import printable
from lims.storage import load

from . import bulletins as bulletins_service
from . import certificate_changes, document, public, public_bp
from .models import Bulletin, ConsumerWarning, WarningStatus, warning_number
from .sanitize import to_text

PER_PAGE = 30


def _conditional(body: str | bytes, stamp: datetime | None, *, mimetype: str = "text/html",
                 extra: str = "") -> Response:  # fmt: skip
    """A response with an ETag (content hash) and Last-Modified; 304 when the client has it."""
    response = make_response(body)
    response.mimetype = mimetype
    response.set_etag(_content_tag(body, extra))
    if stamp is not None:
        response.last_modified = stamp
    response.cache_control.public = not current_user.is_authenticated
    response.cache_control.no_cache = True  # revalidate every time: cheap with the ETag
    response.vary.add("Cookie")
    return response.make_conditional(request)


def _content_tag(body: str | bytes, extra: str = "") -> str:
    """The ETag of a page: a hash of its content. The form token a page carries (the language
    switch) is signed with the second it was made, so two renders of the same content a second
    apart differ there: the hash leaves it out and takes the session's own token instead
    (valid as long as the session, ``WTF_CSRF_TIME_LIMIT = None``), so the same content in
    the same session keeps its tag, and a new session gets a new one (its forms need its
    token)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    signed = g.get(field)
    if isinstance(body, str):
        body = (body.replace(signed, "") if signed else body).encode()
    own = str(session.get(field, "")) if signed else ""
    return hashlib.sha256(body + extra.encode() + own.encode()).hexdigest()[:32]


def _day(name: str) -> date | None:
    try:
        return parse_date(request.args.get(name, ""))
    except ValueError:
        return None


@public_bp.route("/warnings")
@access(PUBLIC)
def warnings() -> Response:
    args = request.args
    filters = public.PublicFilters(
        q=args.get("q", "")[:100].strip(),
        category_id=parse_id(args.get("category")),
        district=args.get("district", "")[:120],
        date_from=_day("from"),
        date_to=_day("to"),
    )
    page = parse_id(args.get("page")) or 1
    query = public.public_query(filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    body = render_template(
        "public/warnings.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
        filters=filters, districts=public.districts(), categories=public.categories(),
        number=warning_number, failed_text=_failed_text,
    )  # fmt: skip
    return _conditional(body, public.last_public_change())


def _failed_text(w: ConsumerWarning) -> str:
    items = failed_items(w, current_language())
    return ", ".join(dict.fromkeys(item.parameter for item in items))


def _public_or_404(warning_id: int) -> ConsumerWarning:
    w = public.public_warning(warning_id)
    if w is None:
        abort(404)
    return w


@public_bp.route("/warnings/<int:warning_id>")
@access(PUBLIC)
def warning(warning_id: int) -> Response:
    w = _public_or_404(warning_id)
    verify = {}
    for source in w.sources:
        cert = db.session.get(Certificate, source.certificate_id)
        if cert is not None:
            verify[source.certificate_number] = numbering.verification_url(cert.verification_code)
    body = render_template(
        "public/warning.html", w=w, number=warning_number(w.id), verify=verify,
        hotline=_hotline(), failed_items=failed_items(w, current_language()),
        attention_label=certificate_changes.attention_label,
    )  # fmt: skip
    return _conditional(body, w.updated_at)


def failed_items(w: ConsumerWarning, lang: str) -> list[Any]:
    """The warning's failed lines in ``lang``: English names from the catalogue's English
    fields (looked up by parameter code, or by the Vietnamese name for lines stored before
    codes were kept), English statement labels; never the Vietnamese text in English."""
    items = list(w.failed_items or [])
    if lang != "en":
        return [document.failed_item(item, "vi") for item in items]
    vi_labels = {statement_label(c, "vi"): c for c in StatementCode}
    out = []
    for item in items:
        item = dict(item)
        if not item.get("parameter_en"):
            query = sa.select(Parameter.name_en)
            if item.get("parameter_code"):
                query = query.where(Parameter.code == item["parameter_code"])
            else:
                query = query.where(Parameter.name_vi == item.get("parameter", ""))
            found = db.session.scalars(query.limit(1)).first()
            if found:
                item["parameter_en"] = found
        code = item.get("statement") or vi_labels.get(item.get("verdict", ""))
        if code and not item.get("verdict_en"):
            item["verdict_en"] = statement_label(code, "en")
        if not item.get("limit_en") and item.get("limit"):
            item["limit_en"] = _english_number(item["limit"])
        if not item.get("result_en") and item.get("result"):
            item["result_en"] = _english_number(item["result"]).replace("KPH", "ND")
        out.append(document.failed_item(item, "en"))
    return out


def _english_number(text: str) -> str:
    """``≤ 0,05`` → ``≤ 0.05`` (a decimal comma between digits); words stay."""
    import re

    return re.sub(r"(?<=\d),(?=\d)", ".", text).replace("Không phát hiện", "Not detected")


def _hotline() -> str:
    from flask import current_app

    return current_app.config.get("ASSOCIATION_HOTLINE") or ""


@public_bp.route("/warnings/<int:warning_id>.pdf")
@access(PUBLIC)
def warning_pdf(warning_id: int) -> Response:
    """The published PDF; once withdrawn, the copy stamped "ĐÃ THU HỒI" (the original stays
    in storage, hash-checked, unchanged)."""
    w = _public_or_404(warning_id)
    if w.status == WarningStatus.WITHDRAWN and w.withdrawn_sha256:
        name = f"{warning_number(w.id)}-da-thu-hoi.pdf"
        return _send_pdf(w.withdrawn_pdf, w.withdrawn_sha256, w.withdrawn_at, name)
    if w.sha256 is None:
        abort(404)
    return _send_pdf(w.pdf, w.sha256 or "", w.published_at, f"{warning_number(w.id)}.pdf")


def _photo_response(photo_id: int, allowed: list[int]) -> Response:
    """A label photo's rendition (upright, no metadata), if it is one of ``allowed``."""
    photo = db.session.get(SamplePhoto, photo_id) if photo_id in allowed else None
    data = photo_rendition(photo) if photo is not None else None
    if data is None:
        abort(404)
    response = send_file(BytesIO(data), mimetype="image/jpeg", max_age=0)
    response.headers["Content-Disposition"] = f'inline; filename="anh-nhan-{photo_id}.jpg"'
    return response


@public_bp.route("/warnings/<int:warning_id>/photos/<int:photo_id>")
@access(PUBLIC)
def public_warning_photo(warning_id: int, photo_id: int) -> Response:
    """A photo the published warning shows (only those chosen for it)."""
    w = _public_or_404(warning_id)
    return _photo_response(photo_id, [int(i) for i in (w.photo_ids or [])])


def _send_pdf(data: bytes | None, sha256: str, stamp: datetime | None, name: str) -> Response:
    response = send_file(
        BytesIO(load(data, sha256, what=name)), mimetype="application/pdf", download_name=name,
        etag=sha256, last_modified=stamp, conditional=True, max_age=0,
    )  # fmt: skip
    response.cache_control.public = True
    return response


@public_bp.route("/bulletins")
@access(PUBLIC)
def bulletin_list() -> Response:
    rows = db.session.scalars(bulletins_service.published_bulletins()).all()
    body = render_template("public/bulletins.html", rows=rows, hotline=_hotline())
    return _conditional(body, public.last_public_change())


@public_bp.route("/bulletins/<int:bulletin_id>.pdf")
@access(PUBLIC)
def bulletin_pdf(bulletin_id: int) -> Response:
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    name = f"ban-tin-canh-bao-{bulletin.number}-{bulletin.year}.pdf"
    return _send_pdf(bulletin.pdf, bulletin.sha256, bulletin.published_at, name)


ATOM = "http://www.w3.org/2005/Atom"


def _iso(value: datetime | None) -> str:
    value = value or datetime(2026, 1, 1, tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(feed: ET.Element, *, url: str, title: str, updated: datetime | None,
           summary: str, published: datetime | None = None) -> None:  # fmt: skip
    entry = ET.SubElement(feed, "entry")
    ET.SubElement(entry, "id").text = url
    ET.SubElement(entry, "title").text = printable(title)  # stored text stays valid XML
    ET.SubElement(entry, "updated").text = _iso(updated)
    if published is not None:
        ET.SubElement(entry, "published").text = _iso(published)
    ET.SubElement(entry, "link", rel="alternate", href=url)
    ET.SubElement(entry, "summary").text = printable(summary or "")


@public_bp.route("/feed.atom")
@access(PUBLIC)
def feed() -> Response:
    from flask import current_app

    vi = current_language() != "en"
    stamp = public.last_public_change()
    root = ET.Element("feed", xmlns=ATOM, attrib={"xml:lang": "vi" if vi else "en"})
    home = url_for("public.warnings", _external=True)
    ET.SubElement(root, "id").text = url_for("public.feed", _external=True)
    ET.SubElement(root, "title").text = _("Consumer warnings")
    ET.SubElement(root, "updated").text = _iso(stamp)
    author = ET.SubElement(root, "author")
    ET.SubElement(author, "name").text = current_app.config.get("ASSOCIATION_NAME") or "LIMS"
    ET.SubElement(root, "link", rel="self", href=url_for("public.feed", _external=True))
    ET.SubElement(root, "link", rel="alternate", href=home)
    warnings_ = db.session.scalars(public.public_query(public.PublicFilters()).limit(50)).all()
    for w in warnings_:
        url = url_for("public.warning", warning_id=w.id, _external=True)
        if w.status == WarningStatus.WITHDRAWN:
            title = f"[{_('Withdrawn')}] {warning_number(w.id)}: {w.title}"
            summary = w.withdrawal_notice
        else:
            title = f"{warning_number(w.id)}: {w.title}"
            summary = f"{w.product_name} — {w.seller_name}. {to_text(w.recommendation)}"
        _entry(root, url=url, title=title, updated=w.updated_at, summary=summary,
               published=w.published_at)  # fmt: skip
    bulletins_ = db.session.scalars(bulletins_service.published_bulletins().limit(20)).all()
    for b in bulletins_:
        _entry(root, url=url_for("public.bulletin_pdf", bulletin_id=b.id, _external=True),
               title=_("Consumer warning bulletin No. %(number)s", number=b.label),
               updated=b.published_at, published=b.published_at,
               summary=_("%(count)d warnings", count=len(b.warnings)))  # fmt: skip
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return _conditional(body, stamp, mimetype="application/atom+xml")
