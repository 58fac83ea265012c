"""Rich text of warnings (hazard, recommendation): a strict allow-list, with ``nh3``.

Allowed: ``p``, ``br``, ``strong``/``b``, ``em``/``i``, ``ul``, ``ol``, ``li`` and ``a`` with an
``http``, ``https`` or ``mailto`` ``href`` (other attributes and every other tag are dropped;
``script``/``style`` lose their content too). Text is NFC-normalised so that "ạ" typed in NFD
and in NFC are the same stored text. :func:`to_pdf_paragraphs` turns the stored HTML into
ReportLab paragraph markup, :func:`to_text` into plain text (feed summaries, search).
"""

from __future__ import annotations

import html
import unicodedata
from html.parser import HTMLParser

import nh3

TAGS = {"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "a"}
ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_LENGTH = 20_000


def sanitize(text: str | None) -> str:
    """Safe HTML from whatever a person (or an attacker) typed."""
    raw = unicodedata.normalize("NFC", text or "")[:MAX_LENGTH]
    cleaned = nh3.clean(
        raw,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return unicodedata.normalize("NFC", cleaned).strip()


class _Converter(HTMLParser):
    """Sanitised HTML → paragraphs of ReportLab markup (bold, italic, bullets, links)."""

    INLINE = {"strong": "b", "b": "b", "em": "i", "i": "i"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.current: list[str] = []
        self.open: list[str] = []
        self.lists: list[list[int]] = []  # [counter] per open list; -1 for bullets

    def _flush(self) -> None:
        for tag in reversed(self.open):
            self.current.append(f"</{tag}>")
        text = "".join(self.current).strip()
        if text and text not in {"<b></b>", "<i></i>"}:
            self.paragraphs.append(text)
        self.current = [f"<{tag}>" for tag in self.open]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p",):
            self._flush()
        elif tag == "br":
            self.current.append("<br/>")
        elif tag in self.INLINE:
            self.open.append(self.INLINE[tag])
            self.current.append(f"<{self.INLINE[tag]}>")
        elif tag in ("ul", "ol"):
            self._flush()
            self.lists.append([0 if tag == "ol" else -1])
        elif tag == "li":
            self._flush()
            if self.lists and self.lists[-1][0] >= 0:
                self.lists[-1][0] += 1
                self.current.append(f"{self.lists[-1][0]}. ")
            else:
                self.current.append("• ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.INLINE and self.INLINE[tag] in self.open:
            name = self.INLINE[tag]
            index = len(self.open) - 1 - self.open[::-1].index(name)
            self.open.pop(index)
            self.current.append(f"</{name}>")
        elif tag in ("p", "li"):
            self._flush()
        elif tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()

    def handle_data(self, data: str) -> None:
        self.current.append(html.escape(data, quote=False))

    def close(self) -> None:
        super().close()
        self.open = []
        self._flush()


def to_pdf_paragraphs(safe_html: str) -> list[str]:
    """Paragraph markup for ReportLab from stored (sanitised) HTML; links become their text."""
    converter = _Converter()
    converter.feed(sanitize(safe_html))
    converter.close()
    return converter.paragraphs


def to_text(safe_html: str) -> str:
    """Plain text of stored HTML (one line per paragraph or list item)."""
    lines = []
    for para in to_pdf_paragraphs(safe_html):
        text = para.replace("<br/>", "\n")
        for tag in ("<b>", "</b>", "<i>", "</i>"):
            text = text.replace(tag, "")
        lines.append(html.unescape(text))
    return "\n".join(lines)
