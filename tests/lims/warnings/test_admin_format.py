"""A published warning is an administrative document (Decree 30/2020/NĐ-CP): the association's
header, number and symbol, place and date, "THÔNG BÁO" with its subject, the approver's
function and name, "Nơi nhận", in the serif face only; and an editable Word copy."""

from __future__ import annotations

import subprocess

from lims import wordfiles
from lims.extensions import db
from lims.storage import load
from lims.warnings import document, drafting, publication
from lims.warnings.word import render_warning_docx

HAZARD = "<p>Histamin cao có thể gây <b>ngộ độc</b> &amp; dị ứng.</p>"
ADVICE = "<ul><li>Ngừng sử dụng</li><li>Trả lại nơi mua</li></ul>"
TITLE = "Nước mắm Hòn Khói lô L1 có histamin vượt mức"


def _published(authors, entry):
    a, b = authors
    w = drafting.draft_warning(actor=a, entry_ids=[entry.id], title=TITLE, hazard=HAZARD,
                               recommendation=ADVICE)  # fmt: skip
    drafting.submit_warning(actor=a, warning=w)
    publication.publish_warning(actor=b, warning=w)
    db.session.commit()
    return w


def _run(tmp_path, tool, data, *args):
    path = tmp_path / "w.pdf"
    path.write_bytes(data)
    return subprocess.run([tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
                          capture_output=True, text=True).stdout  # fmt: skip


def test_published_warning_follows_decree_30(app, lab, authors, failing_entry, tmp_path):
    w = _published(authors, failing_entry())
    data = load(w.pdf, w.sha256, what="test")
    text = " ".join(_run(tmp_path, "pdftotext", data).split())
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        f"Số: {w.id}/TB-HBVNTD", "THÔNG BÁO", f"Cảnh báo người tiêu dùng: {TITLE}",
        "Khánh Hòa, ngày", "Histamin", "520", "Nơi nhận:", "- Sở Công Thương tỉnh Khánh Hòa;",
        "- Lưu: VT.", "CHỦ TỊCH", "Trần Văn Bình", "ngộ độc & dị ứng", "Trả lại nơi mua",
    ):  # fmt: skip
        assert expected in text, expected
    fonts = _run(tmp_path, "pdffonts", data).splitlines()[2:]
    assert fonts and all("Spectral" in line for line in fonts), fonts


def test_preview_keeps_the_frame_and_the_mark(app, lab, authors, failing_entry, tmp_path):
    a, _ = authors
    w = drafting.draft_warning(actor=a, entry_ids=[failing_entry().id], title=TITLE,
                               hazard=HAZARD, recommendation=ADVICE)  # fmt: skip
    db.session.commit()
    text = " ".join(_run(tmp_path, "pdftotext", document.preview_warning(actor=a, warning=w))
                    .split())  # fmt: skip
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "BẢN XEM TRƯỚC" in text


def test_word_copy_of_a_warning(app, lab, authors, failing_entry):
    w = _published(authors, failing_entry())
    text = wordfiles.text_of(render_warning_docx(w))
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", f"Số: {w.id}/TB-HBVNTD", "THÔNG BÁO",
        f"Cảnh báo người tiêu dùng: {TITLE}", "Histamin | 520",
        "Histamin cao có thể gây ngộ độc & dị ứng.",
        "Ngừng sử dụng", "Nơi nhận:", "CHỦ TỊCH", "Trần Văn Bình",
    ):  # fmt: skip
        assert expected in text, expected
