"""PAdES signatures (chữ ký số) with pyHanko: the signing step.

No Flask, no database. :func:`sign_pdf` adds one PAdES signature (ETSI.CAdES.detached, SHA-256)
to a PDF in an incremental update, with a key opened by :mod:`lims.pdf.signkeys`: PAdES B-B,
or B-T when a time-stamp server is given (RFC 3161). The signature field's rectangle lies over
the visible block that :mod:`lims.pdf.sigblock` drew in the page. Every failure is a
:class:`~lims.pdf.signkeys.SigningError` (``tsa`` when the time-stamp server did not answer or
refused, ``failed`` otherwise); nothing half-signed is returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from lims.pdf.signkeys import (
    DEMO_MARK,
    SigningError,
    SigningKey,
    forget_key,
    outside_event_loop,
)

__all__ = ["DEMO_MARK", "Placement", "SignedPdf", "sign_pdf"]

DEFAULT_FIELD = "LIMS-Signature"
_RESERVE_BASE = 8192  # bytes of the signature container besides the certificates
_RESERVE_TIMESTAMP = 12288  # an RFC 3161 token with its TSA's certificates


@dataclass(frozen=True)
class Placement:
    """Where the visible signature is: page index (0 = first) and rectangle in points
    (x1, y1, x2, y2 from the page's lower left corner)."""

    page: int
    box: tuple[int, int, int, int]


class _TimestampFailed(Exception):
    pass


def _timestamper(url: str, timeout: float) -> Any:
    from pyhanko.sign.timestamps import HTTPTimeStamper

    class Stamper(HTTPTimeStamper):
        async def async_request_tsa_response(self, req: Any) -> Any:
            try:
                return await super().async_request_tsa_response(req)
            except Exception as exc:  # noqa: BLE001 - any failure of the server is "tsa"
                raise _TimestampFailed(f"{exc.__class__.__name__}: {exc}") from exc

    return Stamper(url, timeout=max(1, int(round(timeout))))


def _reserve(key: SigningKey, timestamped: bool) -> int:
    certs = sum(len(c.dump()) for c in [key.certificate, *key.chain])
    return _RESERVE_BASE + 2 * certs + (_RESERVE_TIMESTAMP if timestamped else 0)


async def _sign_async(
    data: bytes,
    key: SigningKey,
    placement: Placement | None,
    signed_at: datetime,
    meta: dict[str, str],
    stamper: Any,
    field_name: str,
    ltv_roots: Sequence[Any] | None,
) -> tuple[bytes, bytes]:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko.stamp import NoOpStampStyle

    writer = IncrementalPdfFileWriter(BytesIO(data))
    box = placement.box if placement is not None else None
    spec = fields.SigFieldSpec(
        field_name, on_page=placement.page if placement is not None else 0, box=box
    )
    signature_meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=meta.get("reason") or None,
        location=meta.get("location") or None,
        contact_info=meta.get("contact") or None,
        name=meta.get("name") or None,
        **_ltv_settings(ltv_roots),
    )
    pdf_signer = signers.PdfSigner(
        signature_meta,
        signer=key.signer,
        timestamper=stamper,
        stamp_style=NoOpStampStyle(),  # the visible block is drawn in the page (sigblock.py)
        new_field_spec=spec,
    )
    session = pdf_signer.init_signing_session(writer)
    session.system_time = signed_at  # the /M of the signature: the time printed in the block
    validation = None
    if ltv_roots:
        try:
            validation = await session.perform_presign_validation(writer)
        except Exception as exc:  # noqa: BLE001 - the chain did not validate: say so
            raise SigningError("untrusted", f"{exc.__class__.__name__}: {exc}") from None
    tbs = session.prepare_tbs_document(
        validation_info=validation, bytes_reserved=_reserve(key, stamper is not None)
    )
    digested, output = tbs.digest_tbs_document()
    post = await tbs.perform_signature(
        document_digest=digested.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=signed_at),
    )
    await post.post_signature_processing(output)
    return output.getvalue(), post.sig_contents


def _ltv_settings(roots: Sequence[Any] | None) -> dict[str, Any]:
    """Long-term validation material: the signer's chain to one of ``roots`` is checked before
    signing (a key that does not chain is refused), and the certificates and whatever
    revocation data the CA publishes (OCSP, CRL; fetched, tolerated when unreachable) go into
    the document security store (DSS) after the signature."""
    if not roots:
        return {}
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(
        trust_roots=list(roots), allow_fetching=True, revocation_mode="soft-fail"
    )
    return {
        "embed_validation_info": True,
        "validation_context": context,
        "signer_key_usage": {"digital_signature"},
    }


@dataclass(frozen=True)
class SignedPdf:
    data: bytes
    level: str  # "PAdES B-B", "PAdES B-T", or "PAdES B-LT" (B-T with validation material)
    timestamp: datetime | None  # the time stamp's time (B-T)
    ltv: bool = False  # validation material (DSS) embedded


def _timestamp_time(cms_bytes: bytes) -> datetime | None:
    """The generation time of the signature time stamp in a CMS signature, if it has one."""
    from asn1crypto import cms

    info = cms.ContentInfo.load(cms_bytes)["content"]["signer_infos"][0]
    for attribute in info["unsigned_attrs"] or []:
        if attribute["type"].native == "signature_time_stamp_token":
            token = attribute["values"][0]
            tst = token["content"]["encap_content_info"]["content"].parsed
            return tst["gen_time"].native
    return None


def sign_pdf(
    data: bytes,
    *,
    key: SigningKey,
    signed_at: datetime,
    placement: Placement | None = None,
    reason: str = "",
    location: str = "",
    contact: str = "",
    name: str = "",
    tsa_url: str = "",
    tsa_timeout: float = 10.0,
    field_name: str = DEFAULT_FIELD,
    ltv_roots: Sequence[Any] | None = None,
) -> SignedPdf:
    """``data`` with one PAdES signature added (incremental update: the original bytes start the
    result), its level and time-stamp time. B-T when ``tsa_url`` is given: an RFC 3161 time
    stamp of the signature from that server, which must answer within ``tsa_timeout`` seconds.
    Without a ``placement`` the signature field is invisible. With ``ltv_roots`` (trust
    roots), long-term validation material is embedded (:func:`_ltv_settings`)."""
    stamper = _timestamper(tsa_url, tsa_timeout) if tsa_url else None
    meta = {"reason": reason, "location": location, "contact": contact, "name": name}
    try:
        coroutine = _sign_async(
            data, key, placement, signed_at, meta, stamper, field_name, ltv_roots
        )
        with key.lock:  # a PKCS#11 session is not safe across threads
            signed, cms_bytes = outside_event_loop(asyncio.run, coroutine)
        stamp = _timestamp_time(cms_bytes) if stamper is not None else None
        ltv = bool(ltv_roots)
        level = "PAdES B-LT" if stamp and ltv else "PAdES B-T" if stamp else "PAdES B-B"
        return SignedPdf(signed, level, stamp, ltv)
    except _TimestampFailed as exc:
        raise SigningError("tsa", str(exc), url=tsa_url) from None
    except SigningError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyHanko, the token, asyncio: nothing half-signed
        cause = exc
        while cause.__cause__ is not None and not isinstance(cause, _TimestampFailed):
            cause = cause.__cause__
        if isinstance(cause, _TimestampFailed):
            raise SigningError("tsa", str(cause), url=tsa_url) from None
        if key.source.kind == "pkcs11":  # unplugged or locked token: reopen it next time
            forget_key(key.source)
            raise SigningError("token", f"{exc.__class__.__name__}: {exc}") from None
        raise SigningError("failed", f"{exc.__class__.__name__}: {exc}") from None
