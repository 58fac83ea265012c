"""The visible signature block: a framed box drawn in the page with the signer's name, function,
organisation and signing time, whose place is recorded for the signature field.

The text is page content in the document's own font (Vietnamese letters, extractable with
``pdftotext``); :func:`lims.pdf.signing.sign_pdf` then puts the signature field's rectangle
over the box, so a PDF reader shows the signature there. A document gets this block only when
it is signed: the bytes rendered with it are never stored unsigned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.utils import simpleSplit
from reportlab.platypus import Flowable

from lims.pdf.fonts import FONT_BOLD, FONT_REGULAR, nfc, register_fonts
from lims.pdf.signing import Placement

BORDER = colors.HexColor("#1f5f3a")
_PAD = 4.0


@dataclass(frozen=True)
class SignatureLines:
    """What the block says: a heading ("Ký số bởi" …) and (label, value) lines."""

    heading: str
    lines: Sequence[tuple[str, str]]


def signature_lines(
    *,
    signer: str,
    function: str,
    organisation: str,
    signed_at: str,
    bilingual: bool = False,
) -> SignatureLines:
    """The standard block: signer name, function, organisation and time, Vietnamese first."""

    def label(vi: str, en: str) -> str:
        return f"{vi} / {en}" if bilingual else vi

    lines = [(label("Người ký", "Signed by"), signer)]
    if function:
        lines.append((label("Chức vụ", "Function"), function))
    if organisation:
        lines.append((label("Đơn vị", "Organisation"), organisation))
    lines.append((label("Thời gian ký", "Signed at"), signed_at))
    return SignatureLines(label("Đã ký số", "Digitally signed"), lines)


class SignatureBlock(Flowable):
    """A box of ``width`` points holding :class:`SignatureLines`; after the document is built,
    ``placement`` says on which page and where it was drawn (``None`` if it was not drawn)."""

    def __init__(
        self,
        content: SignatureLines,
        width: float,
        *,
        font: str = FONT_REGULAR,
        bold_font: str = FONT_BOLD,
        size: float = 8.0,
    ) -> None:
        super().__init__()
        register_fonts()
        self.content = content
        self.width = width
        self.font = font
        self.bold_font = bold_font
        self.size = size
        self.leading = size * 1.3
        self.placement: Placement | None = None
        self._rows = self._layout()
        self.height = 2 * _PAD + self.leading * len(self._rows)

    def _layout(self) -> list[tuple[str, str]]:
        inner = self.width - 2 * _PAD
        rows = [
            (self.bold_font, piece)
            for piece in simpleSplit(nfc(self.content.heading), self.bold_font, self.size, inner)
        ]
        for label, value in self.content.lines:
            text = nfc(f"{label}: {value}")
            rows += [(self.font, piece) for piece in simpleSplit(text, self.font, self.size, inner)]
        return rows

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        canv.saveState()
        canv.setStrokeColor(BORDER)
        canv.setLineWidth(0.8)
        canv.rect(0, 0, self.width, self.height, stroke=1, fill=0)
        y = self.height - _PAD - self.size
        for font, text in self._rows:
            canv.setFont(font, self.size)
            canv.setFillColor(BORDER if font == self.bold_font else colors.black)
            canv.drawString(_PAD, y, text)
            y -= self.leading
        canv.restoreState()
        x1, y1 = canv.absolutePosition(0, 0)
        x2, y2 = canv.absolutePosition(self.width, self.height)
        doc = getattr(canv, "_doctemplate", None)
        page = (doc.page if doc is not None else canv.getPageNumber()) - 1
        self.placement = Placement(
            page=page,
            box=(int(x1), int(y1), int(x2 + 0.999), int(y2 + 0.999)),
        )
