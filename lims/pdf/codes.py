"""QR codes (matrix from segno) and Code128 barcodes as ReportLab drawings.

A ``Drawing`` is a flowable (put it in a story) and can be drawn on a canvas at a position with
:func:`draw_on`. Human-readable text under barcodes is left to the caller, who sets it in
Be Vietnam Pro: ReportLab's built-in barcode text would use Helvetica.
"""

from __future__ import annotations

import segno
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.graphics.shapes import Drawing, Group, Path, Rect
from reportlab.graphics.widgetbase import Widget
from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas

from lims.pdf.fonts import FONT_REGULAR, register_fonts

QR_LEVELS = ("L", "M", "Q", "H")
_BAR_WIDTH = 1.0  # module width before scaling; the drawing is stretched to the asked width


def _with_own_font(drawing: Drawing) -> Drawing:
    """Start the drawing's graphics state in Be Vietnam Pro: the renderer's default font is
    Helvetica, which would otherwise be added to the PDF even though no text is drawn."""
    register_fonts()
    drawing.initialFontName = FONT_REGULAR
    return drawing


class _QrModules(Widget):
    """A QR code whose module matrix comes from segno (ISO/IEC 18004: mode, version and mask
    chosen by the standard's rules), drawn as one filled path.

    The matrix is made once per widget. ReportLab's own QR widget encodes the value again on
    every ``draw()`` and emits one ``Rect`` node per run of dark modules; here the dark runs of
    each row, merged with the same run of the rows below, become sub-paths of a single
    ``Path``, and in a PDF (:class:`_QrDrawing`) integer rectangles under one transformation.
    Only ReportLab's public drawing API is used (``Widget``, ``Group``, ``Path``, canvas
    operators): the encoder is segno's.
    """

    def __init__(self, value: str, *, barLevel: str = "M", barBorder: int = 4) -> None:  # noqa: N803
        self.value = value
        self.barLevel = barLevel
        self.barBorder = barBorder
        self.x = self.y = 0.0
        self.barFillColor = colors.black
        self._module_matrix: list[list[bool]] | None = None
        count = len(self._matrix())
        # one point per module, quiet zone included (the drawing scales it to its size)
        self.barWidth = self.barHeight = float(count + 2 * barBorder)

    def _matrix(self) -> list[list[bool]]:
        if self._module_matrix is None:
            code = segno.make_qr(self.value, error=self.barLevel.lower(), boost_error=False)
            self._module_matrix = [[bool(m) for m in row] for row in code.matrix]
        return self._module_matrix

    def getBounds(self) -> tuple[float, float, float, float]:  # noqa: N802 - ReportLab's name
        return (self.x, self.y, self.x + self.barWidth, self.y + self.barHeight)

    def _geometry(self) -> tuple[float, float, float]:
        """Module size and the top-left corner of module (0, 0) in widget coordinates."""
        count = len(self._matrix())
        width, height, border = self.barWidth, self.barHeight, self.barBorder
        minwh = float(min(width, height))
        box = minwh / (count + border * 2.0)
        left = self.x + (width - minwh) / 2.0 + border * box
        top = self.y + (minwh - height) / 2.0 + height - border * box
        return box, left, top

    def module_rects(self) -> list[tuple[int, int, int, int]]:
        """The dark modules as rectangles ``(column, row, width, height)`` in module units:
        runs of each row, merged with the same run of the rows below."""
        rects: list[tuple[int, int, int, int]] = []
        open_spans: dict[tuple[int, int], int] = {}
        modules = self._matrix()
        for r, row in enumerate([*modules, []]):
            spans = []
            c, count = 0, len(row)
            while c < count:
                if row[c]:
                    start = c
                    while c < count and row[c]:
                        c += 1
                    spans.append((start, c))
                c += 1
            for span in [s for s in open_spans if s not in spans]:
                top = open_spans.pop(span)
                rects.append((span[0], top, span[1] - span[0], r - top))
            for span in spans:
                open_spans.setdefault(span, r)
        return sorted(rects, key=lambda rect: (rect[1], rect[0]))

    def draw(self) -> Group:
        box, left, top = self._geometry()
        group = Group()
        # the bounds (quiet zone included), unfilled, as in the stock widget
        group.add(
            Rect(
                self.x,
                self.y,
                self.barWidth,
                self.barHeight,
                fillColor=None,
                strokeColor=None,
                strokeWidth=0,
            )
        )
        path = Path(fillColor=self.barFillColor, strokeColor=None, strokeWidth=0)
        path.autoclose = "pdf"
        for c, r, w, h in self.module_rects():
            x0, x1 = left + c * box, left + (c + w) * box
            y0, y1 = top - (r + h) * box, top - r * box
            path.moveTo(x0, y0)
            path.lineTo(x1, y0)
            path.lineTo(x1, y1)
            path.lineTo(x0, y1)
            path.closePath()
        group.add(path)
        return group

    def pdf_operators(self) -> str:
        """The modules as PDF path operators in module units (see :class:`_QrDrawing`)."""
        return "\n".join(f"{c} {r} {w} {h} re" for c, r, w, h in self.module_rects()) + "\nf"


class _QrDrawing(Drawing):
    """A drawing of one :class:`_QrModules`. Inside a PDF document (Platypus calls ``draw``) it
    writes the modules as integer rectangles under one transformation instead of walking the
    shape tree, whose every coordinate ReportLab formats in Python. Other renderers (and
    :func:`draw_on`) draw the shapes as usual."""

    def draw(self, showBoundary: object = None) -> None:  # noqa: N803 - ReportLab's name
        widget = self.contents[0]
        if self.renderScale != 1.0 or not isinstance(widget, _QrModules):
            super().draw()
            return
        box, left, top = widget._geometry()
        canv = self.canv
        canv.saveState()
        canv.transform(*self.transform)
        canv.setFillColor(widget.barFillColor)
        canv.transform(box, 0, 0, -box, left, top)
        canv.addLiteral(widget.pdf_operators())
        canv.restoreState()


def qr_drawing(value: str, size: float, *, level: str = "M", border: int = 4) -> Drawing:
    """A square drawing ``size`` points wide holding a QR code of ``value``.

    ``border`` is the quiet zone in modules (4 is the standard; 2 is enough on a label that has
    white space around it). ``level`` is the error-correction level L, M, Q or H.
    """
    if not value:
        raise ValueError("a QR code needs a value")
    if level not in QR_LEVELS:
        raise ValueError(f"unknown QR error-correction level {level!r}")
    widget = _QrModules(value, barLevel=level, barBorder=border)
    x0, y0, x1, y1 = widget.getBounds()
    w, h = x1 - x0, y1 - y0
    drawing = _QrDrawing(size, size, transform=[size / w, 0, 0, size / h, -x0, -y0])
    drawing.add(widget)
    return _with_own_font(drawing)


def qr_value(drawing: Drawing) -> str:
    """The text encoded in a drawing made by :func:`qr_drawing`."""
    for item in drawing.contents:
        if isinstance(item, _QrModules):
            return str(item.value)
    raise ValueError("the drawing holds no QR code")


def code128_drawing(value: str, width: float, height: float, *, quiet: bool = True) -> Drawing:
    """A Code128 barcode of ``value`` stretched to ``width`` × ``height`` points (no text).

    ``quiet`` keeps the standard quiet zones (10 modules each side) inside the given width.
    """
    if not value:
        raise ValueError("a barcode needs a value")
    if not value.isascii():
        raise ValueError(f"Code128 takes ASCII only, not {value!r}")
    drawing = createBarcodeDrawing(
        "Code128",
        value=value,
        width=width,
        height=height,
        humanReadable=False,
        quiet=1 if quiet else 0,
        lquiet=10 * _BAR_WIDTH,
        rquiet=10 * _BAR_WIDTH,
        barWidth=_BAR_WIDTH,
    )
    return _with_own_font(drawing)


def barcode_value(drawing: Drawing) -> str:
    """The value of a drawing made by :func:`code128_drawing`."""
    for item in drawing.contents:
        value = getattr(item, "value", None)
        if value is not None and item.__class__.__name__ == "BarcodeCode128":
            return str(value)
    raise ValueError("the drawing holds no Code128 barcode")


def draw_on(canv: Canvas, drawing: Drawing, x: float, y: float) -> None:
    """Draw ``drawing`` on ``canv`` with its lower-left corner at (x, y)."""
    renderPDF.draw(drawing, canv, x, y)
