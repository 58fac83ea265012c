"""Shared ReportLab parts: one font registry, the page frame, QR/barcodes and tables.

No Flask, no database: builders pass plain data and get PDF ``bytes`` back.
"""

from lims.pdf.codes import barcode_value, code128_drawing, draw_on, qr_drawing, qr_value
from lims.pdf.fonts import (
    FAMILY,
    FONT_BOLD,
    FONT_BOLD_ITALIC,
    FONT_ITALIC,
    FONT_MEDIUM,
    FONT_REGULAR,
    markup,
    nfc,
    paragraph,
    register_fonts,
    string_width,
    styles,
)
from lims.pdf.frame import DocumentInfo, Letterhead, build_document, end_mark, page_label
from lims.pdf.tables import data_table, key_value_table

__all__ = [
    "FAMILY",
    "FONT_BOLD",
    "FONT_BOLD_ITALIC",
    "FONT_ITALIC",
    "FONT_MEDIUM",
    "FONT_REGULAR",
    "DocumentInfo",
    "Letterhead",
    "barcode_value",
    "build_document",
    "code128_drawing",
    "data_table",
    "draw_on",
    "end_mark",
    "key_value_table",
    "markup",
    "nfc",
    "page_label",
    "paragraph",
    "qr_drawing",
    "qr_value",
    "register_fonts",
    "string_width",
    "styles",
]
