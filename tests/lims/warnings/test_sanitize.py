"""The rich-text sanitiser with hostile input."""

from __future__ import annotations

import unicodedata

import pytest

from lims.warnings.sanitize import sanitize, to_pdf_paragraphs, to_text

HOSTILE = [
    ("<script>alert(1)</script>Ngừng sử dụng", "Ngừng sử dụng"),
    ('<img src=x onerror="alert(1)">', ""),
    ('<p onclick="steal()">Đổi trả</p>', "<p>Đổi trả</p>"),
    ("<style>p{color:red}</style><p>Kiểm tra</p>", "<p>Kiểm tra</p>"),
    ('<p style="position:fixed">x</p>', "<p>x</p>"),
    ('<iframe src="https://evil.example"></iframe>ok', "ok"),
    ("<svg><script>alert(1)</script></svg>ok", "ok"),
]


@pytest.mark.parametrize(("raw", "expected"), HOSTILE)
def test_hostile_markup_is_removed(raw, expected):
    assert sanitize(raw) == expected


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:x", "data:text/html,x",
             "vbscript:x"],
)  # fmt: skip
def test_dangerous_links_lose_their_href(href):
    out = sanitize(f'<a href="{href}">bấm</a>')
    assert "href" not in out and "bấm" in out


@pytest.mark.parametrize("href", ["https://cand.vn/a?b=1", "http://x.vn", "mailto:hoi@x.vn"])
def test_safe_links_kept(href):
    out = sanitize(f'<a href="{href}" target="_blank" onclick="x">liên hệ</a>')
    assert f'href="{href.replace("&", "&amp;")}"' in out
    assert "onclick" not in out and "target" not in out and 'rel="noopener' in out


def test_allowed_formatting_and_nesting():
    raw = "<p><strong>Đậm <em>nghiêng</em></strong></p><ol><li>Một<ul><li>Hai</li></ul></li></ol>"
    out = sanitize(raw)
    assert out == raw
    assert to_pdf_paragraphs(out)[0] == "<b>Đậm <i>nghiêng</i></b>"
    assert "1. Một" in to_pdf_paragraphs(out)
    assert "• Hai" in to_pdf_paragraphs(out)


def test_unclosed_and_unknown_tags():
    out = sanitize("<p><b>Không đóng<div>khối</div><table><tr><td>ô</td></tr></table>")
    assert "<div" not in out and "<table" not in out and "Không đóng" in out and "ô" in out
    assert out.count("<b>") == out.count("</b>")


def test_vietnamese_nfc_nfd_intact():
    nfd = unicodedata.normalize("NFD", "Nước mắm Khánh Hòa: ngừng sử dụng")
    assert sanitize(nfd) == "Nước mắm Khánh Hòa: ngừng sử dụng"
    assert sanitize("Nước mắm") == "Nước mắm"


def test_text_escapes_for_pdf_markup():
    out = sanitize("Muối & đường < 5 %")
    assert to_pdf_paragraphs(out) == ["Muối &amp; đường &lt; 5 %"]
    assert to_text(out) == "Muối & đường < 5 %"
