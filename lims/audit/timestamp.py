"""RFC 3161 time stamps of audit anchors: the request, the HTTP exchange with a time-stamping
authority (``LIMS_TSA_URL``) and the checks on its answer. No Flask, no database.

The token is kept as the authority sent it (DER); it is checked here to be granted and to
stamp exactly our data (message imprint and nonce). Its signature is checked by any RFC 3161
tool against the authority's certificate, e.g.
``openssl ts -verify -data anchor.json -in anchor.tsr -CAfile tsa-ca.pem``.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

SHA256_OID = bytes.fromhex("0609608648016503040201")  # 2.16.840.1.101.3.4.2.1
TST_INFO_OID = bytes.fromhex("060b2a864886f70d0109100104")  # 1.2.840.113549.1.9.16.1.4
GRANTED = (0, 1)  # granted, grantedWithMods
MAX_RESPONSE = 1 << 20


class TimestampError(Exception):
    """The authority could not be reached, refused, or answered something else."""


@dataclass(frozen=True)
class Timestamp:
    token: bytes  # the TimeStampToken (CMS SignedData), DER
    gen_time: datetime
    serial: int


# ---------------------------------------------------------------------------- DER


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _integer(n: int) -> bytes:
    body = n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True)
    return _tlv(0x02, body)


def _read(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the element at ``pos``."""
    if pos + 2 > len(data):
        raise TimestampError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if not 0 < count <= 4 or pos + count > len(data):
            raise TimestampError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = first
    if pos + length > len(data):
        raise TimestampError("truncated DER")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out, pos = [], start
    while pos < end:
        tag, cstart, cend = _read(data, pos)
        out.append((tag, cstart, cend))
        pos = cend
    return out


def _int_value(data: bytes, element: tuple[int, int, int]) -> int:
    tag, start, end = element
    if tag != 0x02:
        raise TimestampError("expected an INTEGER")
    return int.from_bytes(data[start:end], "big", signed=True)


# ---------------------------------------------------------------------------- request, reply


def request_for(data: bytes, nonce: int) -> bytes:
    """A DER TimeStampReq for the SHA-256 of ``data``, asking for the authority's certificate."""
    imprint = _tlv(0x30, _tlv(0x30, SHA256_OID + b"\x05\x00") + _tlv(0x04, _sha256(data)))
    return _tlv(0x30, _integer(1) + imprint + _integer(nonce) + b"\x01\x01\xff")


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def parse_reply(reply: bytes, data: bytes, nonce: int) -> Timestamp:
    """Check a TimeStampResp: granted, and its TSTInfo stamps the SHA-256 of ``data`` with our
    nonce. Returns the token and its time."""
    tag, start, end = _read(reply, 0)
    if tag != 0x30:
        raise TimestampError("the reply is not a TimeStampResp")
    parts = _children(reply, start, end)
    if not parts or parts[0][0] != 0x30:
        raise TimestampError("the reply has no status")
    status = _children(reply, parts[0][1], parts[0][2])
    code = _int_value(reply, status[0]) if status else -1
    if code not in GRANTED:
        raise TimestampError(f"the authority refused the request (PKIStatus {code})")
    if len(parts) < 2:
        raise TimestampError("the reply carries no token")
    token = reply[parts[0][2] : parts[1][2]]  # elements are contiguous: it starts where status ends
    info = _tst_info(token)
    fields = _children(info, *_read(info, 0)[1:])
    # TSTInfo: version, policy, messageImprint, serialNumber, genTime, [accuracy], [ordering],
    # [nonce], ...
    imprint = _children(info, fields[2][1], fields[2][2])
    digest = info[imprint[1][1] : imprint[1][2]]
    if imprint[1][0] != 0x04 or digest != _sha256(data):
        raise TimestampError("the token stamps other data than the anchor")
    if info[fields[0][1] : fields[0][2]] != b"\x01":
        raise TimestampError("unknown TSTInfo version")
    if not any(f[0] == 0x02 and _int_value(info, f) == nonce for f in fields[5:]):
        raise TimestampError("the token does not carry our nonce (a replayed answer?)")
    serial = _int_value(info, fields[3])
    if fields[4][0] != 0x18:
        raise TimestampError("the token has no time")
    return Timestamp(token, _gen_time(info[fields[4][1] : fields[4][2]]), serial)


def _tst_info(token: bytes) -> bytes:
    """The DER TSTInfo inside a TimeStampToken (ContentInfo → SignedData → eContent)."""
    _tag, start, end = _read(token, 0)
    content_info = _children(token, start, end)
    if len(content_info) < 2 or content_info[1][0] != 0xA0:
        raise TimestampError("the token is not a CMS ContentInfo")
    signed = _children(token, content_info[1][1], content_info[1][2])[0]
    signed_fields = _children(token, signed[1], signed[2])
    encap = next((f for f in signed_fields if f[0] == 0x30), None)
    if encap is None:
        raise TimestampError("the token has no encapsulated content")
    encap_fields = _children(token, encap[1], encap[2])
    if token[encap[1] : encap_fields[0][2]] != TST_INFO_OID or len(encap_fields) < 2:
        raise TimestampError("the token does not hold a TSTInfo")
    octets = _children(token, encap_fields[1][1], encap_fields[1][2])[0]
    if octets[0] != 0x04:
        raise TimestampError("the token's TSTInfo is not an OCTET STRING")
    return token[octets[1] : octets[2]]


def _gen_time(raw: bytes) -> datetime:
    text = raw.decode("ascii").rstrip("Z")
    main, _, fraction = text.partition(".")
    value = datetime.strptime(main, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    if fraction:
        value = value.replace(microsecond=int((fraction + "000000")[:6]))
    return value


def stamp(data: bytes, url: str, *, timeout: float = 15.0) -> Timestamp:
    """Ask the authority at ``url`` to time-stamp ``data``; raises :class:`TimestampError`."""
    nonce = secrets.randbits(63)
    request = urllib.request.Request(
        url,
        data=request_for(data, nonce),
        headers={
            "Content-Type": "application/timestamp-query",
            "Accept": "application/timestamp-reply",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            reply = response.read(MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise TimestampError(f"cannot reach the time-stamping authority {url}: {exc}") from None
    if len(reply) > MAX_RESPONSE:
        raise TimestampError("the authority's answer is too large")
    return parse_reply(reply, data, nonce)
