"""Text normalisation for search and duplicate detection (pure, no Flask, no database)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["search_key"]

_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def search_key(*parts: object) -> str:
    """One normalised text for ``parts``: accents removed (đ → d), lower case, punctuation
    dropped, spaces collapsed, parts joined by one space; ``None`` and empty parts skipped.

    ``search_key("Chợ Đầm", "  Số 5, Phan Bội Châu ")`` → ``"cho dam so 5 phan boi chau"``.
    """
    texts = []
    for part in parts:
        if part is None:
            continue
        text = unicodedata.normalize("NFKD", str(part))
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = text.replace("đ", "d").replace("Đ", "D").casefold()
        text = _SPACES.sub(" ", _PUNCT.sub(" ", text)).strip()
        if text:
            texts.append(text)
    return " ".join(texts)
