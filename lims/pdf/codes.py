"""QR codes and Code128 barcodes as ReportLab drawings.

A ``Drawing`` is a flowable (put it in a story) and can be drawn on a canvas at a position with
:func:`draw_on`. Human-readable text under barcodes is left to the caller, who sets it in
Be Vietnam Pro: ReportLab's built-in barcode text would use Helvetica.
"""

from __future__ import annotations

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing, Group, Path, Rect
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


class _QrModules(QrCodeWidget):
    """ReportLab's QR widget, drawn as one filled path.

    The stock widget encodes the value on every ``draw()`` (and ``getBounds()`` draws too) and
    emits one ``Rect`` node per run of dark modules, which the renderer then handles one by one.
    Here the module matrix is made once per widget and the dark runs of each row become
    sub-paths of a single ``Path``: same modules, same quiet zone, same bounds, a fraction of
    the nodes.
    """

    def _matrix(self) -> list[list[bool]]:
        matrix = self.__dict__.get("_module_matrix")
        if matrix is None:
            self.qr.make()
            matrix = [[bool(m) for m in row] for row in self.qr.modules]
            self.__dict__["_module_matrix"] = matrix
        return matrix

    def draw(self) -> Group:
        modules = self._matrix()
        width, height, border = self.barWidth, self.barHeight, self.barBorder
        x, y = self.x, self.y
        group = Group()
        # the bounds (quiet zone included), unfilled, as in the stock widget
        group.add(Rect(x, y, width, height, fillColor=None, strokeColor=None, strokeWidth=0))
        count = len(modules)
        minwh = float(min(width, height))
        box = minwh / (count + border * 2.0)
        offset_x = x + (width - minwh) / 2.0
        offset_y = y + (minwh - height) / 2.0
        path = Path(fillColor=self.barFillColor, strokeColor=None, strokeWidth=0)
        path.autoclose = "pdf"
        for r, row in enumerate(modules):
            top = offset_y + height - (r + border) * box
            bottom = top - box
            c = 0
            while c < count:
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < count and row[c]:
                    c += 1
                left = offset_x + (start + border) * box
                right = offset_x + (c + border) * box
                path.moveTo(left, bottom)
                path.lineTo(right, bottom)
                path.lineTo(right, top)
                path.lineTo(left, top)
                path.closePath()
        group.add(path)
        return group


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
    drawing = Drawing(size, size, transform=[size / w, 0, 0, size / h, -x0, -y0])
    drawing.add(widget)
    return _with_own_font(drawing)


def qr_value(drawing: Drawing) -> str:
    """The text encoded in a drawing made by :func:`qr_drawing`."""
    for item in drawing.contents:
        if isinstance(item, QrCodeWidget):
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
