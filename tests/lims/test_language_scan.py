"""Issue 18 item 7: every page of the demo, in each language, read as its users read it: no raw
codes (``verified``, ``campaign.create``, ``net-quantity-ml``) and no words of the other
language. Proper nouns and data (product, business and regulation names, people) are allowed:
what is looked for is the interface's own words."""

from __future__ import annotations

import html as htmlmod
import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from lims.extensions import db

SKIP = re.compile(
    r"^/admin/audit|"  # the audit page shows the events' data as stored (its reading: issue 19)
    r"^/(static|bootstrap|api)/|/logout|\.pdf|\.png|\.jpg|\.csv|\.xlsx|\.docx|\.xml|\.json|"
    r"format=|/label|/photos?/|/download|/attachments?/|/feed|/export|/bulletins/.+/pdf|/file"
)
MAX_PAGES = 45
PER_PATTERN = 2

# Interface words of the other language. English on a Vietnamese page: words that are never
# part of a Vietnamese sentence. Vietnamese on an English page: the interface's own terms.
ENGLISH_WORDS = re.compile(
    r"\b(the|and|with|Sample|Samples|Result|Results|Status|Language|Save|Search|Certificate|"
    r"Warning|pending|entered|verified|retracted|received|registered|rejected|cancelled|"
    r"reported|issued|published|draft|withdrawn|superseded|valid|stable)\b"
)
# (Data typed in Vietnamese, such as a warning's title or a method's own title, stays
# Vietnamese on an English page: only the interface's terms are looked for.)
VIETNAMESE_WORDS = re.compile(
    r"(Kết quả|Trạng thái|Lưu kết quả|Không đạt|\bĐạt\b|chờ xác nhận|đã xác nhận|Chỉ tiêu|"
    r"Phiếu kết quả|Nhật ký|Người soát xét|Kỹ thuật viên|Đăng xuất|Ngôn ngữ)"
)
RAW_CODE = re.compile(
    r"(?<![\w/@.-])("
    r"[a-z]+_[a-z_]+"  # in_testing, to_verify, not_judged
    r"|[a-z]+\.[a-z_]+(?:\.[a-z_]+)*"  # campaign.create, sample.receive
    r"|[a-z]+(?:-[a-z0-9]+){2,}"  # net-quantity-ml
    r")(?![\w/@-])"
)
# Proper nouns and data that look like the above, found on the demo's pages.
# ("product_category" is a column of the catalogue's CSV file, named in a help text.)
ALLOWED = {"e.g", "i.e", "product_category"}
# Words of data (not of the interface) that match the lists above: "hàn the" is Vietnamese for
# borax; the catalogue keeps a regulation's English note and shows a category's two names.
ALLOWED_PHRASES = ("Hàn the", "hàn the", "as listed with OIV", "White and rosé wine")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
HIDDEN = {"script", "style", "pre", "code", "textarea", "select", "option", "title"}


class _Reader(HTMLParser):
    """The text a reader sees, without what is marked as another language (``lang="vi"`` on
    an English page: a Vietnamese document's own text) or is not interface text (scripts,
    raw instrument lines, choices of a list)."""

    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.stack: list[bool] = []  # True: this element hides its content
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        other = any(k == "lang" and v and v[:2] != self.lang for k, v in attrs)
        if tag == "html":
            other = False
        self.stack.append(tag in HIDDEN or other)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.stack):
            self.parts.append(data)


def _text(page: str, lang: str) -> str:
    reader = _Reader(lang)
    reader.feed(page)
    text = " ".join(reader.parts)
    text = re.sub(r"\S+@\S+", " ", text)  # e-mail addresses
    text = re.sub(r"https?://\S+", " ", text)
    for phrase in ALLOWED_PHRASES:
        text = text.replace(phrase, " ")
    return re.sub(r"\s+", " ", text)


def _links(page: str) -> list[str]:
    out = []
    for href in re.findall(r'href="([^"#]+)"', page):
        href = htmlmod.unescape(href)
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue
        if SKIP.search(href):
            continue
        out.append(href)
    return out


def _pattern(url: str) -> str:
    return re.sub(r"[0-9]+", "N", url.split("?", 1)[0])


def _crawl(client, starts: list[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    per_pattern: Counter[str] = Counter()
    queue = list(starts)
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen or per_pattern[_pattern(url)] >= PER_PATTERN:
            continue
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        per_pattern[_pattern(url)] += 1
        body = response.get_data(as_text=True)
        seen[url] = body
        queue += [link for link in _links(body) if link not in seen]
    return seen


def _findings(pages: dict[str, str], lang: str) -> list[str]:
    found = []
    other = ENGLISH_WORDS if lang == "vi" else VIETNAMESE_WORDS
    for url, body in pages.items():
        text = _text(body, lang)
        for match in RAW_CODE.finditer(text):
            if match.group(1) not in ALLOWED:
                found.append(f"{lang} {url}: raw code {match.group(1)!r}")
        for match in other.finditer(text):
            start = max(match.start() - 30, 0)
            found.append(f"{lang} {url}: {match.group(0)!r} in …{text[start : match.end() + 30]}…")
    return found


@pytest.fixture
def demo(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the whole demo once is enough (its pages are the same on PostgreSQL)")
        from lims.demo import load_demo_data

        load_demo_data()
        db.session.commit()


def _sign_in(app, email: str, password: str, lang: str):
    from lims.auth.models import User

    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == email).values(locale=lang))
        db.session.commit()
    client = app.test_client()
    from tests.conftest import login

    assert login(client, email, password).status_code == 302
    return client


def test_demo_pages_speak_one_language(app, demo):
    """Both languages in one test: the demo is loaded once (about a minute)."""
    from lims.demo import DEMO_USERS

    findings: list[str] = []
    for lang in ("vi", "en"):
        scanned = 0
        for email, _name, _roles, password in DEMO_USERS:
            client = _sign_in(app, email, password, lang)
            pages = _crawl(client, ["/"])
            scanned += len(pages)
            findings += _findings(pages, lang)
        public = app.test_client()
        with public.session_transaction() as session:
            session["lang"] = lang
        pages = _crawl(public, ["/", "/public/", "/verify"])
        scanned += len(pages)
        findings += _findings(pages, lang)
        assert scanned > 100, lang
    assert not findings, "\n".join(sorted(set(findings)))
