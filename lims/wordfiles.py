"""Editable Word (DOCX) copies of administrative documents, from templates the lab can edit.

The PDF stays the record; the DOCX is for staff who adapt the wording before a document is
signed and sent. Templates are Word files with Jinja tags (``{{ number }}``, ``{%p for … %}``,
``{%tr for … %}``) filled by docxtpl. The default templates are built here with python-docx in
the layout of Decree 30/2020/NĐ-CP (A4, margins 20/20/30/15 mm, Times New Roman 13 pt — the
decree's face, present wherever Word is — national header, number and symbol, place and date,
title, signature block, "Nơi nhận"). ``lims reports docx-templates DIR`` writes them out for
editing; ``LIMS_DOCX_TEMPLATE_DIR`` makes the app use the edited ones (``report.docx``,
``letter.docx``, ``warning.docx``; a missing file falls back to the default).

No Flask, no database: callers pass the template folder and a plain context.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

KINDS = ("report", "letter", "warning")
FONT = "Times New Roman"


class TemplateError(ValueError):
    """An edited template that cannot be filled (a broken Jinja tag): names the file."""


def _base() -> Any:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    style.paragraph_format.space_after = Pt(6)
    return doc


def _para(
    container: Any,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    align: str = "left",
    indent: bool = False,
) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    paragraph = container.add_paragraph()
    paragraph.alignment = {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    paragraph.paragraph_format.space_after = Pt(0 if align == "center" else 6)
    if indent:
        paragraph.paragraph_format.first_line_indent = Mm(10)
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)
    return paragraph


def _cell(table: Any, row: int, col: int) -> Any:
    cell = table.cell(row, col)
    cell.paragraphs[0]._element.getparent().remove(cell.paragraphs[0]._element)
    return cell


def _header(doc: Any) -> None:
    from docx.shared import Mm

    table = doc.add_table(rows=1, cols=2)
    table.autofit = False
    table.columns[0].width, table.columns[1].width = Mm(68), Mm(97)
    left, right = _cell(table, 0, 0), _cell(table, 0, 1)
    _para(left, "{{ parent_body }}", size=12.5, align="center")
    _para(left, "{{ issuing_body }}", bold=True, size=12.5, align="center")
    _para(left, "Số: {{ number }}", align="center")
    _para(left, "{%p if summary %}", align="center")
    _para(left, "{{ summary }}", size=12, align="center")
    _para(left, "{%p endif %}", align="center")
    _para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12.5, align="center")
    _para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=13.5, align="center")
    _para(right, "", align="center")
    _para(right, "{{ date_line }}", italic=True, size=13.5, align="center")
    doc.add_paragraph()


def _title(doc: Any) -> None:
    _para(doc, "{{ kind }}", bold=True, size=14, align="center")
    _para(doc, "{{ title }}", bold=True, size=13.5, align="center")
    doc.add_paragraph()


def _signature(doc: Any) -> None:
    from docx.shared import Mm

    doc.add_paragraph()
    table = doc.add_table(rows=1, cols=2)
    table.autofit = False
    table.columns[0].width, table.columns[1].width = Mm(85), Mm(80)
    left, right = _cell(table, 0, 0), _cell(table, 0, 1)
    _para(left, "Nơi nhận:", bold=True, italic=True, size=12)
    _para(left, "{%p for line in recipients %}", size=11)
    _para(left, "{{ line }}", size=11)
    _para(left, "{%p endfor %}", size=11)
    _para(right, "{%p for line in signer_function %}", align="center")
    _para(right, "{{ line }}", bold=True, size=13.5, align="center")
    _para(right, "{%p endfor %}", align="center")
    for _ in range(4):
        _para(right, "", align="center")
    _para(right, "{{ signer_name }}", bold=True, size=13.5, align="center")


def _table(doc: Any, header: list[str], row_tag: str, cells: list[str]) -> None:
    """A table with a header row and one template row repeated by ``row_tag``."""
    table = doc.add_table(rows=4, cols=len(header))
    table.style = "Table Grid"
    for i, text in enumerate(header):
        table.cell(0, i).paragraphs[0].add_run(text).bold = True
    table.cell(1, 0).paragraphs[0].add_run(f"{{%tr {row_tag} %}}")
    for i, text in enumerate(cells):
        table.cell(2, i).paragraphs[0].add_run(text)
    table.cell(3, 0).paragraphs[0].add_run("{%tr endfor %}")


def _report_body(doc: Any) -> None:
    _para(doc, "{%p for line in intro %}")
    _para(doc, "{{ line }}", indent=True, align="justify")
    _para(doc, "{%p endfor %}")
    _para(doc, "1. Tổng hợp", bold=True)
    _table(doc, ["Chỉ số", "Giá trị"], "for row in totals", ["{{ row[0] }}", "{{ row[1] }}"])
    _para(doc, "{%p for group in groups %}")
    _para(doc, "{{ group.title }}", bold=True)
    _table(
        doc,
        ["Nhóm", "Số mẫu thử", "Không đạt", "Tỷ lệ (%)", "Khoảng tin cậy 95 % (%)"],
        "for row in group.rows",
        ["{{ row[0] }}", "{{ row[1] }}", "{{ row[2] }}", "{{ row[3] }}", "{{ row[4] }}"],
    )
    _para(doc, "{%p endfor %}")
    _para(doc, "Danh sách hàng hóa không đạt", bold=True)
    _table(
        doc,
        ["Mã mẫu", "Sản phẩm", "Cơ sở", "Chỉ tiêu", "Kết quả", "Mức, quy chuẩn"],
        "for row in nonconforming",
        [
            "{{ row[0] }}",
            "{{ row[1] }}",
            "{{ row[2] }}",
            "{{ row[3] }}",
            "{{ row[4] }}",
            "{{ row[5] }}",
        ],
    )
    _para(doc, "{%p if nonconforming_note %}")
    _para(doc, "{{ nonconforming_note }}", italic=True)
    _para(doc, "{%p endif %}")


def _letter_body(doc: Any) -> None:
    _para(doc, "Kính gửi: {{ addressee }}.", size=14, align="center")
    doc.add_paragraph()
    _para(doc, "{%p for line in paragraphs %}")
    _para(doc, "{{ line }}", indent=True, align="justify")
    _para(doc, "{%p endfor %}")


def _warning_body(doc: Any) -> None:
    _table(doc, ["Thông tin", "Nội dung"], "for row in facts", ["{{ row[0] }}", "{{ row[1] }}"])
    _para(doc, "Chỉ tiêu không đạt", bold=True)
    _table(
        doc,
        ["Chỉ tiêu", "Kết quả", "Đơn vị", "Mức giới hạn", "Văn bản", "Đánh giá"],
        "for row in failed",
        [
            "{{ row[0] }}",
            "{{ row[1] }}",
            "{{ row[2] }}",
            "{{ row[3] }}",
            "{{ row[4] }}",
            "{{ row[5] }}",
        ],
    )
    for heading, name in (
        ("Nguy cơ đối với người tiêu dùng", "hazard"),
        ("Khuyến cáo", "recommendation"),
    ):
        _para(doc, heading, bold=True)
        _para(doc, f"{{%p for line in {name} %}}")
        _para(doc, "{{ line }}", indent=True, align="justify")
        _para(doc, "{%p endfor %}")
    _para(doc, "Phiếu kết quả thử nghiệm: {{ certificates }}")


_BODIES: dict[str, Callable[[Any], None]] = {
    "report": _report_body,
    "letter": _letter_body,
    "warning": _warning_body,
}


@functools.cache
def default_template(kind: str) -> bytes:
    """The default template of ``kind`` (``report``, ``letter``, ``warning``) as .docx bytes."""
    if kind not in KINDS:
        raise ValueError(f"unknown template {kind!r}; expected one of {KINDS}")
    doc = _base()
    doc.core_properties.title = f"lims {kind} template (Decree 30/2020)"
    _header(doc)
    if kind != "letter":
        _title(doc)
    _BODIES[kind](doc)
    _signature(doc)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def template(kind: str, folder: str | Path | None) -> tuple[bytes, str]:
    """The template to use: ``<folder>/<kind>.docx`` when the lab has one, else the default;
    with its name (for messages)."""
    if folder:
        path = Path(folder) / f"{kind}.docx"
        if path.is_file():
            return path.read_bytes(), str(path)
    return default_template(kind), f"(default {kind}.docx)"


def render(kind: str, context: Mapping[str, Any], folder: str | Path | None = None) -> bytes:
    """Fill the template of ``kind`` with ``context``; the .docx bytes."""
    from docxtpl import DocxTemplate

    data, name = template(kind, folder)
    try:
        doc = DocxTemplate(BytesIO(data))
        doc.render(dict(context), autoescape=True)
    except Exception as exc:  # noqa: BLE001 - a broken edited template: say which one
        raise TemplateError(f"{name}: {exc.__class__.__name__}: {exc}") from None
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def write_defaults(folder: str | Path) -> list[Path]:
    """Write every default template into ``folder`` (never over an existing file)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = folder / f"{kind}.docx"
        if not path.exists():
            path.write_bytes(default_template(kind))
            written.append(path)
    return written


def text_of(data: bytes) -> str:
    """Every paragraph's text, tables included, in document order (tests, checks)."""
    from docx import Document

    doc = Document(BytesIO(data))
    lines: list[str] = []
    body = doc.element.body
    for child in body.iterchildren():
        if child.tag.endswith("}p"):
            lines.append("".join(t.text or "" for t in child.iter() if t.tag.endswith("}t")))
        elif child.tag.endswith("}tbl"):
            for row in child.iter():
                if row.tag.endswith("}tr"):
                    cells = []
                    for cell in row.iterchildren():
                        if cell.tag.endswith("}tc"):
                            cells.append(
                                " ".join(
                                    "".join(t.text or "" for t in p.iter() if t.tag.endswith("}t"))
                                    for p in cell.iter()
                                    if p.tag.endswith("}p")
                                ).strip()
                            )
                    lines.append(" | ".join(cells))
    return "\n".join(lines)
