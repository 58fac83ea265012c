"""Styled tables: a header row repeated on every page, zebra rows, word-wrapped cells."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, StyleSheet1
from reportlab.platypus import Flowable, Table, TableStyle

from lims.pdf.fonts import paragraph, register_fonts, styles

HEADER_BG = colors.HexColor("#E4E9F0")
ZEBRA_BG = colors.HexColor("#F5F7FA")
GRID = colors.HexColor("#8A94A3")

Cell = str | Flowable | None
_ALIGN_STYLE = {"LEFT": "cell", "RIGHT": "cell-right", "CENTER": "cell-center"}


def _cell(value: Cell, style: ParagraphStyle) -> Flowable | str:
    if value is None:
        return ""
    if isinstance(value, str):
        return paragraph(value, style)
    return value


def _font(sheet: StyleSheet1) -> str:
    """The sheet's cell font (Be Vietnam Pro, or the serif of administrative documents)."""
    register_fonts()
    return sheet["cell"].fontName


def data_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    col_widths: Sequence[float] | None = None,
    align: Sequence[str] | None = None,
    zebra: bool = True,
    sheet: StyleSheet1 | None = None,
) -> Table:
    """A table of plain strings (or ready flowables) with a bold header row.

    Strings become word-wrapped Paragraphs (markup characters are escaped), the header repeats
    when the table breaks across pages, and rows alternate background when ``zebra``.
    ``align`` gives each column LEFT, RIGHT or CENTER; ``col_widths`` are in points
    (None lets ReportLab share the frame width, which suits short text only).
    """
    ncols = len(header)
    if ncols == 0:
        raise ValueError("a table needs at least one column")
    for i, row in enumerate(rows):
        if len(row) != ncols:
            raise ValueError(f"row {i} has {len(row)} cells, the header has {ncols}")
    if col_widths is not None and len(col_widths) != ncols:
        raise ValueError("col_widths must give one width per column")
    aligns = [a.upper() for a in align] if align is not None else ["LEFT"] * ncols
    if len(aligns) != ncols or any(a not in _ALIGN_STYLE for a in aligns):
        raise ValueError("align must give LEFT, RIGHT or CENTER for each column")
    sheet = sheet or styles()
    head_style = sheet["cell-head"]
    col_styles = [sheet[_ALIGN_STYLE[a]] for a in aligns]
    data: list[list[Flowable | str]] = [[_cell(h, head_style) for h in header]]
    for row in rows:
        data.append([_cell(v, col_styles[c]) for c, v in enumerate(row)])
    commands: list[tuple] = [
        # Cells hold Paragraphs, but the table's own default font would still be embedded.
        ("FONTNAME", (0, 0), (-1, -1), _font(sheet)),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
    ]
    if zebra:
        for r in range(2, len(data), 2):
            commands.append(("BACKGROUND", (0, r), (-1, r), ZEBRA_BG))
    table = Table(data, colWidths=list(col_widths) if col_widths else None, repeatRows=1)
    table.setStyle(TableStyle(commands))
    return table


def key_value_table(
    pairs: Sequence[tuple[str, Cell]],
    *,
    col_widths: Sequence[float],
    sheet: StyleSheet1 | None = None,
) -> Table:
    """Two columns without grid: bold label, wrapped value (e.g. "Tên mẫu" | "Nước mắm …")."""
    if len(col_widths) != 2:
        raise ValueError("a key-value table has two columns")
    sheet = sheet or styles()
    data = [[_cell(k, sheet["cell-bold"]), _cell(v, sheet["cell"])] for k, v in pairs]
    table = Table(data, colWidths=list(col_widths))
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _font(sheet)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table
