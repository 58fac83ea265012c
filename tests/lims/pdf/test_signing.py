"""PAdES signing (lims.pdf.signing, signkeys, sigblock) and checking (lims.pdf.sigcheck): real
keys (PKCS#12 files and a SoftHSM2 token), a real time-stamp server on 127.0.0.1, and the
results read back with pyHanko's validator and poppler's ``pdfsig``."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from reportlab.lib.units import mm

from lims.pdf import DocumentInfo, build_document, paragraph, sigcheck, styles
from lims.pdf.sigblock import SignatureBlock, signature_lines
from lims.pdf.signing import sign_pdf
from lims.pdf.signkeys import SigningError, check_key, fold_name, load_key, read_key_table
from tests.lims.signing_keys import closed_port_url, make_pki, make_token, softhsm_module

NAME, EMAIL = "Nguyễn Thị Ánh Tuyết", "tuyet@lab.vn"
NOW = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)


def _document(pages: int = 2) -> tuple[bytes, SignatureBlock]:
    sheet = styles()
    block = SignatureBlock(
        signature_lines(
            signer=NAME,
            function="Trưởng phòng Thử nghiệm",
            organisation="Trung tâm Kỹ thuật Khánh Hòa",
            signed_at="03/12/2026 14:30",
        ),
        70 * mm,
    )
    story = [
        paragraph(f"Đoạn văn số {i}: chỉ tiêu đạt yêu cầu. " * 12, sheet["body"])
        for i in range(14 * pages)
    ] + [block]
    return build_document(story, info=DocumentInfo(title="Thử ký số"), invariant=True), block


@pytest.fixture(scope="module")
def key(pki):
    table = read_key_table(pki.table({EMAIL: pki.pkcs12_entry(pki.signer(EMAIL, NAME))}))
    return load_key(table[EMAIL])


@pytest.fixture(scope="module")
def signed(key):
    data, block = _document()
    return (
        data,
        block,
        sign_pdf(
            data,
            key=key,
            signed_at=NOW,
            placement=block.placement,
            reason="Phê duyệt",
            location="Nha Trang",
        ),
    )


def _pdfsig(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def test_signed_document_is_valid_for_pyhanko_and_pdfsig(pki, signed, tmp_path):
    original, block, result = signed
    assert result.level == "PAdES B-B" and result.timestamp is None
    assert result.data.startswith(original)  # an incremental update: the rendered bytes untouched
    check = sigcheck.check_pdf(result.data, sigcheck.load_trust_roots([pki.root_file]))
    (sig,) = check.signatures
    assert (sig.intact, sig.valid, sig.whole_file, sig.modified, sig.trusted) == (
        True,
        True,
        True,
        False,
        True,
    )
    assert sig.outcome == "valid" and sig.ok
    assert sig.signer == NAME and sig.claimed_time == NOW and sig.level == "PAdES B-B"
    assert sig.demo  # democa's organisation: LIMS DEMO
    out = _pdfsig(result.data, tmp_path)
    assert "Signature is Valid." in out, out
    assert "Total document signed" in out, out
    assert "ETSI.CAdES.detached" in out, out
    assert NAME in out


def test_visible_block_is_where_the_field_is(signed):
    from pypdf import PdfReader

    _, block, result = signed
    reader = PdfReader(io.BytesIO(result.data))
    assert block.placement.page == len(reader.pages) - 1
    page = reader.pages[block.placement.page]
    (widget,) = [a.get_object() for a in page["/Annots"]]
    assert widget["/FT"] == "/Sig"
    assert [round(float(v)) for v in widget["/Rect"]] == list(block.placement.box)
    x1, y1, x2, y2 = block.placement.box
    assert x2 - x1 > 150 and y2 - y1 > 40  # a visible rectangle, not an invisible field
    text = page.extract_text()
    for expected in (
        "Đã ký số",
        f"Người ký: {NAME}",
        "Chức vụ: Trưởng phòng Thử nghiệm",
        "Đơn vị: Trung tâm Kỹ thuật Khánh Hòa",
        "Thời gian ký: 03/12/2026 14:30",
    ):
        assert expected in text


def test_pdftotext_gives_back_the_block(signed, tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(signed[2].data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert f"Người ký: {NAME}" in text and "Thời gian ký: 03/12/2026 14:30" in text


def test_changed_byte_is_invalid(pki, signed, tmp_path):
    data = signed[2].data
    at = data.index(b"/Title")  # inside the signed range (the document information)
    tampered = data[:at] + b"/Titlf" + data[at + 6 :]
    (sig,) = sigcheck.check_pdf(tampered, sigcheck.load_trust_roots([pki.root_file])).signatures
    assert not sig.intact and sig.outcome == "invalid" and not sig.ok
    out = _pdfsig(tampered, tmp_path)
    assert "Signature is Valid." not in out, out


def test_update_after_signing_is_modified(pki, signed, tmp_path):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed[2].data))
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 700 Td (KHONG DAT) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stream))
    out = io.BytesIO()
    writer.write(out)
    changed = out.getvalue()
    (sig,) = sigcheck.check_pdf(changed, sigcheck.load_trust_roots([pki.root_file])).signatures
    assert sig.intact and sig.valid  # the signed revision itself is untouched …
    assert sig.modified and not sig.whole_file and sig.outcome == "modified"  # … but added to
    assert "Not total document signed" in _pdfsig(changed, tmp_path)


def test_without_a_trust_root_it_is_untrusted(signed):
    (sig,) = sigcheck.check_pdf(signed[2].data, []).signatures
    assert sig.intact and sig.valid and not sig.trusted and sig.outcome == "untrusted"


def test_unreadable_and_unsigned_files(pki):
    assert not sigcheck.check_pdf(b"%PDF-1.4 broken").readable
    assert not sigcheck.check_pdf(b"\x00" * 100).readable
    data, _ = _document(1)
    check = sigcheck.check_pdf(data)
    assert check.readable and not check.signed


def test_time_stamped_signature_is_b_t(pki, key, tsa, tmp_path):
    data, block = _document(1)
    before = tsa.requests
    result = sign_pdf(data, key=key, signed_at=NOW, placement=block.placement, tsa_url=tsa.url)
    assert tsa.requests == before + 1
    assert result.level == "PAdES B-T"
    assert abs(result.timestamp - datetime.now(UTC)) < timedelta(minutes=1)
    (sig,) = sigcheck.check_pdf(result.data, sigcheck.load_trust_roots([pki.root_file])).signatures
    assert sig.level == "PAdES B-T" and sig.timestamp_ok and sig.ok
    assert sig.timestamp_time == result.timestamp
    assert "Signature is Valid." in _pdfsig(result.data, tmp_path)


def test_long_term_validation_material_is_embedded(pki, key, tsa, tmp_path):
    data, block = _document(1)
    roots = sigcheck.load_trust_roots([pki.root_file])
    result = sign_pdf(
        data, key=key, signed_at=NOW, placement=block.placement, tsa_url=tsa.url, ltv_roots=roots
    )
    assert result.ltv and result.level == "PAdES B-LT"
    from pypdf import PdfReader

    dss = PdfReader(io.BytesIO(result.data)).trailer["/Root"]["/DSS"]
    assert len(dss["/Certs"]) >= 2  # the signer's and the root's (and the TSA's)
    (sig,) = sigcheck.check_pdf(result.data, roots).signatures
    assert sig.ok and not sig.modified  # the DSS update after signing is allowed
    assert sig.level == "PAdES B-LT"
    assert "Signature is Valid." in _pdfsig(result.data, tmp_path)
    # a key that does not chain to the roots is refused before anything is signed
    other = make_pki(tmp_path / "other")
    with pytest.raises(SigningError) as caught:
        sign_pdf(
            data,
            key=key,
            signed_at=NOW,
            placement=block.placement,
            ltv_roots=sigcheck.load_trust_roots([other.root_file]),
        )
    assert caught.value.code == "untrusted"


def test_signing_and_checking_inside_a_running_event_loop(pki, key):
    """pyHanko's synchronous calls run an event loop of their own: in a thread that already
    runs one (an async server, Playwright in the browser tests) they must still work."""
    import asyncio

    async def inside() -> sigcheck.DocumentCheck:
        data, block = _document(1)
        result = sign_pdf(data, key=key, signed_at=NOW, placement=block.placement)
        return sigcheck.check_pdf(result.data, sigcheck.load_trust_roots([pki.root_file]))

    # in a thread of its own, as a server's would be (this test process may already run
    # Playwright's loop in its main thread)
    found: list[sigcheck.DocumentCheck] = []
    worker = threading.Thread(target=lambda: found.append(asyncio.run(inside())))
    worker.start()
    worker.join(timeout=60)
    (sig,) = found[0].signatures
    assert sig.ok


def test_unreachable_time_stamp_server_refuses_quickly(key):
    data, block = _document(1)
    started = time.monotonic()
    with pytest.raises(SigningError) as caught:
        sign_pdf(
            data,
            key=key,
            signed_at=NOW,
            placement=block.placement,
            tsa_url=closed_port_url(),
            tsa_timeout=2,
        )
    assert caught.value.code == "tsa"
    assert time.monotonic() - started < 10


# ---------------------------------------------------------------------------- keys


def test_key_problems_have_their_own_codes(pki, monkeypatch):
    good = pki.signer("a@lab.vn", "Trần Văn A", file_name="a.p12")
    (pki.folder / "wrong.pass").write_text("not the passphrase")
    table = read_key_table(
        pki.table(
            {
                "missing@lab.vn": 'pkcs12 = "nowhere.p12"\npassphrase_file = "a.pass"',
                "wrong@lab.vn": f'pkcs12 = "{good}"\npassphrase_file = "wrong.pass"',
                "nopass@lab.vn": f'pkcs12 = "{good}"\npassphrase_file = "absent.pass"',
                "env@lab.vn": f'pkcs12 = "{good}"\npassphrase_env = "LIMS_TEST_KEY_PASS"',
            },
            name="problems.toml",
        )
    )

    def code(email, environ=None):
        with pytest.raises(SigningError) as caught:
            load_key(table[email], environ or {})
        return caught.value.code

    assert code("missing@lab.vn") == "key_file"
    assert code("wrong@lab.vn") == "wrong_passphrase"
    assert code("nopass@lab.vn") == "passphrase_missing"
    assert code("env@lab.vn") == "passphrase_missing"
    passphrase = good.with_suffix(".pass").read_text()
    loaded = load_key(table["env@lab.vn"], {"LIMS_TEST_KEY_PASS": passphrase})
    assert loaded.common_name == "Trần Văn A"


def test_expired_not_yet_valid_and_someone_elses_key(pki):
    now = datetime.now(UTC)
    expired = pki.signer(
        EMAIL,
        NAME,
        not_before=now - timedelta(days=400),
        not_after=now - timedelta(days=1),
        file_name="old.p12",
    )
    future = pki.signer(EMAIL, NAME, not_before=now + timedelta(days=3), file_name="new.p12")
    other = pki.signer("b@lab.vn", "Lê Văn Bình", file_name="b.p12")
    table = read_key_table(
        pki.table(
            {
                "old@lab.vn": pki.pkcs12_entry(expired),
                "new@lab.vn": pki.pkcs12_entry(future),
                "b@lab.vn": pki.pkcs12_entry(other),
            },
            name="dates.toml",
        )
    )

    def code(entry):
        with pytest.raises(SigningError) as caught:
            check_key(load_key(table[entry]), name=NAME, email=EMAIL)
        return caught.value

    assert code("old@lab.vn").code == "expired"
    assert code("new@lab.vn").code == "not_yet_valid"
    refused = code("b@lab.vn")
    assert refused.code == "mismatch" and refused.params["certificate"] == "Lê Văn Bình"
    # the same person, written the way certificate authorities often do, or by e-mail
    check_key(load_key(table["b@lab.vn"]), name="LE VAN BINH", email="x@lab.vn")
    check_key(load_key(table["b@lab.vn"]), name="Someone", email="B@lab.vn")


def test_fold_name():
    assert fold_name("  Nguyễn   Văn Đức ") == fold_name("NGUYEN VAN DUC") == "nguyen van duc"
    assert fold_name("Lê Thị Hồng") != fold_name("Lê Thị Hương")


@pytest.mark.parametrize(
    "body, words",
    [
        ('["a@lab.vn"\npkcs12 = "x"', "line"),
        ('["a@lab.vn"]\npkcs12 = "x.p12"\npassphrase_file = "p"\ncolour = "red"', "colour"),
        ('["a@lab.vn"]\npkcs12 = "x.p12"', "passphrase"),
        ('["a@lab.vn"]\npkcs12 = "x"\npkcs11_module = "y"\npassphrase_env = "Z"', "either"),
        ('["a@lab.vn"]\npkcs11_module = "m.so"\npin_env = "P"', "token_label"),
    ],
)
def test_bad_key_tables_are_refused_with_the_reason(tmp_path, body, words):
    path = tmp_path / "t.toml"
    path.write_text(body)
    with pytest.raises(SigningError) as caught:
        read_key_table(path)
    assert caught.value.code == "config" and words in caught.value.detail


# ---------------------------------------------------------------------------- PKCS#11


@pytest.fixture(scope="module")
def token(pki, tmp_path_factory):
    if softhsm_module() is None or shutil.which("softhsm2-util") is None:
        message = "SoftHSM2 is not installed (Debian package softhsm2; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must test the token path
        pytest.skip(message)
    saved = os.environ.get("SOFTHSM2_CONF")
    made = make_token(tmp_path_factory.mktemp("hsm"), pki, email=EMAIL, name=NAME)
    yield made
    if saved is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = saved


def test_key_on_a_pkcs11_token_signs(pki, token, tmp_path):
    pin = tmp_path / "pin"
    pin.write_text(token.pin)
    table = read_key_table(
        pki.table(
            {
                EMAIL: (
                    f'pkcs11_module = "{token.module}"\ntoken_label = "{token.label}"\n'
                    f'key_label = "{token.key_label}"\npin_file = "{pin}"'
                )
            },
            name="token.toml",
        )
    )
    key = load_key(table[EMAIL])
    check_key(key, name=NAME, email=EMAIL)
    data, block = _document(1)
    result = sign_pdf(data, key=key, signed_at=NOW, placement=block.placement)
    (sig,) = sigcheck.check_pdf(result.data, sigcheck.load_trust_roots([pki.root_file])).signatures
    assert sig.ok and sig.signer == NAME
    assert "Signature is Valid." in _pdfsig(result.data, tmp_path)


def test_wrong_pin_or_absent_token_is_a_token_error(pki, token, tmp_path):
    base = f'pkcs11_module = "{token.module}"\nkey_label = "{token.key_label}"\n'
    table = read_key_table(
        pki.table(
            {
                "pin@lab.vn": base + f'token_label = "{token.label}"\npin_env = "PIN"',
                "absent@lab.vn": base + 'token_label = "not-plugged-in"\npin_env = "PIN"',
            },
            name="token-bad.toml",
        )
    )
    for email in ("pin@lab.vn", "absent@lab.vn"):
        with pytest.raises(SigningError) as caught:
            load_key(table[email], {"PIN": "000000"})
        assert caught.value.code == "token"
