"""The fields of a sample that a person (or a device) supplies: one declaration each.

Each :class:`SampleField` says what the field is (kind, longest text, required and the message
when it is missing), how people read it (its label: a lazy translation, English msgid, the
Vietnamese in the catalogue) and where it appears:

- ``form``: a box on the registration form (:class:`lims.intake.forms.SampleForm` is built
  from these);
- ``sheet``: a column of the survey sheet (:data:`lims.intake.survey_sheet.COLUMNS`), with its
  Vietnamese header as the sheet names it, other accepted headers, an example and a help text;
- ``api``: a property of the API's sample (``SampleInput`` in, the sample's JSON out;
  :mod:`lims.api.openapi`, :mod:`lims.api.samples`);
- ``export``: columns of the sample list's CSV/XLSX export (``lims.intake.views_list``).

The parser (:func:`lims.intake.validation.parse_sample_fields`) takes the lengths, the text
kinds and the required fields from here. ``tests/lims/intake/test_fields.py`` fails when a
form field, a sheet column, an API property or an export column has no declaration, or a
declared field is missing from a place it says it appears.

To add a field to a sample: a declaration here, the column on ``Sample`` (and on
``SampleInput``), a migration. Pure: no database, no request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l


class Kind(StrEnum):
    TEXT = "text"  # one line
    LONG_TEXT = "long_text"  # several lines (tab and line breaks allowed)
    NUMBER = "number"  # a Decimal typed by a person or written by a program
    DATE = "date"  # dd/mm/yyyy (also yyyy-mm-dd)
    DATETIME = "datetime"  # dd/mm/yyyy HH:MM or ISO 8601, Asia/Ho_Chi_Minh without a zone
    CHOICE = "choice"  # the id of a record chosen from a list (campaign, category)
    REFERENCE = "reference"  # the id of a record found by searching (business)


TEXT_KINDS = frozenset({Kind.TEXT, Kind.LONG_TEXT})
ID_KINDS = frozenset({Kind.CHOICE, Kind.REFERENCE})


@dataclass(frozen=True)
class SheetColumn:
    """The field's column in the survey sheet."""

    header: str  # the Vietnamese header written in the template
    example: Any = ""
    aliases: tuple[str, ...] = ()  # other headers accepted (compared by search_key)
    help: Any = ""  # the template's guide sheet
    key: str = ""  # the column's key when it is not the field's name ("category")


@dataclass(frozen=True)
class ExportColumn:
    """A column of the sample export: ``key`` names the value, ``width`` in characters."""

    key: str
    label: Any
    width: int


@dataclass(frozen=True)
class SampleField:
    name: str  # the attribute of Sample and SampleInput, the key of the form, API and errors
    kind: Kind
    label: Any  # lazy translation, as the form shows it
    max_length: int | None = None  # texts: the column size of lims.intake.models.Sample
    required: bool = False
    missing: Any = None  # the message when a required field is empty
    decimals: int | None = None  # numbers: the most decimals accepted
    form: bool = True
    sheet: SheetColumn | None = None
    api: bool = True
    export: tuple[ExportColumn, ...] = ()
    related: str = ""  # CHOICE/REFERENCE: the related record ("campaign"), as the API shows it

    @property
    def sheet_key(self) -> str | None:
        if self.sheet is None:
            return None
        return self.sheet.key or self.name

    @property
    def api_name(self) -> str:
        """The property of the sample's JSON: the related object (``campaign``) for an id."""
        return self.related or self.name


def _text(
    name: str, label: Any, n: int, header: str, example: str, *aliases: str, **kw: Any
) -> SampleField:
    """A text field of at most ``n`` characters, in the sheet under ``header`` (also under its
    own name and ``aliases``), ``example`` in the template."""
    return SampleField(
        name, kw.pop("kind", Kind.TEXT), label, max_length=n,
        sheet=SheetColumn(header, example, (name, *aliases), kw.pop("help", "")), **kw,
    )  # fmt: skip


def _export(key: str, label: Any, width: int) -> tuple[ExportColumn, ...]:
    return (ExportColumn(key, label, width),)


#: Every field a person supplies, in order (the order of the errors, the sheet and the export).
SAMPLE_FIELDS: tuple[SampleField, ...] = (
    SampleField(
        "campaign_id", Kind.CHOICE, _l("Survey campaign"), required=True,
        missing=_l("Choose the survey campaign."), related="campaign",
        export=_export("campaign", _l("Campaign"), 28),
    ),
    SampleField(
        "category_id", Kind.CHOICE, _l("Product category"), required=True,
        missing=_l("Choose the product category."), related="category",
        sheet=SheetColumn(
            "Nhóm sản phẩm", "Thực phẩm › Nước mắm", ("ma nhom san pham", "category"),
            _l("The category code, or its Vietnamese name or path (Thực phẩm › Nước mắm)."),
            key="category",
        ),
        export=_export("category", _l("Category"), 28),
    ),
    _text(
        "product_name", _l("Product name"), 300, "Tên sản phẩm", "Nước mắm cá cơm 40 độ đạm",
        "ten hang hoa", required=True, missing=_l("Enter the product name."),
        export=_export("product_name", _l("Product"), 36),
    ),
    _text("brand", _l("Brand"), 200, "Nhãn hiệu", "Hòn Khói", "nhan hang",
          export=_export("brand", _l("Brand"), 18)),
    _text(
        "manufacturer", _l("Manufacturer / importer"), 300, "Nhà sản xuất/nhập khẩu",
        "Công ty TNHH Nước mắm Vạn Ninh", "nha san xuat", "nha nhap khau",
        "nha san xuat nhap khau",
        export=_export("manufacturer", _l("Manufacturer / importer"), 30),
    ),
    _text("origin", _l("Origin"), 120, "Xuất xứ", "Việt Nam",
          export=_export("origin", _l("Origin"), 14)),
    _text("batch", _l("Batch / lot"), 120, "Số lô", "L2026-11", "so lo lo san xuat",
          export=_export("batch", _l("Batch / lot"), 14)),
    SampleField(
        "production_date", Kind.DATE, _l("Production date"),
        sheet=SheetColumn("Ngày sản xuất", "01/10/2026", ("production_date", "nsx")),
        export=_export("production_date", _l("Production date"), 12),
    ),
    SampleField(
        "expiry_date", Kind.DATE, _l("Expiry date"),
        sheet=SheetColumn("Hạn sử dụng", "01/10/2028", ("expiry_date", "hsd")),
        export=_export("expiry_date", _l("Expiry date"), 12),
    ),
    _text("declared_standard", _l("Declared standard"), 200, "Tiêu chuẩn công bố",
          "TCVN 5107:2018"),
    SampleField(
        "quantity", Kind.NUMBER, _l("Quantity"), decimals=4,
        sheet=SheetColumn("Số lượng", "2", ("quantity", "so luong mau")),
        export=_export("quantity", _l("Quantity"), 10),
    ),
    _text("quantity_unit", _l("Unit"), 30, "Đơn vị tính", "chai 500 ml", "don vi",
          export=_export("quantity_unit", _l("Unit"), 12)),
    _text("packaging", _l("Packaging"), 200, "Quy cách bao gói", "chai thủy tinh", "bao goi"),
    _text("seal_number", _l("Seal number"), 80, "Số niêm phong", "NB-000123"),
    SampleField(
        "price", Kind.NUMBER, _l("Purchase price (VND)"), decimals=0,
        sheet=SheetColumn("Giá mua (đồng)", "85000", ("price", "gia mua", "gia")),
        export=_export("price", _l("Price (VND)"), 14),
    ),
    SampleField(
        "business_id", Kind.REFERENCE, _l("Business"), related="business",
        # the sheet names the business by its own columns (survey_sheet.BUSINESS_COLUMNS)
        export=(
            ExportColumn("business", _l("Business"), 30),
            ExportColumn("business.district", _l("District"), 18),
            ExportColumn("business.address", _l("Address"), 40),
        ),
    ),
    _text("receipt_number", _l("Receipt / invoice number"), 80, "Số hóa đơn", "HĐ 0001234",
          "so hoa don chung tu"),
    SampleField(
        "sampled_at", Kind.DATETIME, _l("Sampled at (dd/mm/yyyy HH:MM)"), required=True,
        missing=_l("Enter when the sample was taken."),
        sheet=SheetColumn(
            "Thời gian lấy mẫu", "05/11/2026 09:30",
            ("sampled_at", "ngay lay mau", "thoi diem lay mau"),
            _l("dd/mm/yyyy HH:MM, Việt Nam time."),
        ),
        export=_export("sampled_at", _l("Sampled at"), 16),
    ),
    _text("sampled_by", _l("Sampled by"), 300, "Người lấy mẫu", "Nguyễn Thị Thu Hà",
          export=_export("sampled_by", _l("Sampled by"), 22)),
    SampleField("latitude", Kind.NUMBER, _l("Latitude"), decimals=7,
                sheet=SheetColumn("Vĩ độ", "12,2451", ("latitude",))),
    SampleField("longitude", Kind.NUMBER, _l("Longitude"), decimals=7,
                sheet=SheetColumn("Kinh độ", "109,1943", ("longitude",))),
    _text("remarks", _l("Remarks"), 5000, "Ghi chú", "", kind=Kind.LONG_TEXT),
)  # fmt: skip

BY_NAME: dict[str, SampleField] = {f.name: f for f in SAMPLE_FIELDS}
#: The field names, in order (the keys of SampleInputError.errors).
NAMES: tuple[str, ...] = tuple(BY_NAME)
#: Texts → their longest length.
TEXT_LENGTHS: dict[str, int] = {
    f.name: f.max_length or 0 for f in SAMPLE_FIELDS if f.kind in TEXT_KINDS
}
REQUIRED: tuple[SampleField, ...] = tuple(f for f in SAMPLE_FIELDS if f.required)


def in_form() -> list[SampleField]:
    return [f for f in SAMPLE_FIELDS if f.form]


def in_sheet() -> list[SampleField]:
    return [f for f in SAMPLE_FIELDS if f.sheet is not None]


def in_api() -> list[SampleField]:
    return [f for f in SAMPLE_FIELDS if f.api]


def export_columns() -> list[ExportColumn]:
    return [c for f in SAMPLE_FIELDS for c in f.export]


# ---------------------------------------------------------------------------- checks


def undeclared(
    keys: Iterable[str], declared: Iterable[str], *, other: Iterable[str] = ()
) -> list[str]:
    """The ``keys`` a place has (form fields, sheet columns, API properties, export columns)
    that are neither ``declared`` for that place nor in ``other`` (what the place shows that is
    not a field a person supplies: the code, the status, the business's own columns)."""
    known = set(declared) | set(other)
    return [k for k in keys if k not in known]


def missing(keys: Iterable[str], declared: Iterable[str]) -> list[str]:
    """The ``declared`` keys of a place that the place does not have."""
    present = set(keys)
    return [k for k in declared if k not in present]
