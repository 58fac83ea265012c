"""Issue 18 item 10: the warning form is a plain form that a static script enhances (entry
picker, formatting toolbar); what the toolbar writes is what the sanitiser keeps."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from lims.warnings.sanitize import sanitize
from tests.lims.warnings.conftest import signed_in

SCRIPT = Path(__file__).resolve().parents[3] / "lims" / "static" / "js" / "warnings.js"

# what lims/static/js/warnings.js inserts, for each button of the toolbar
TOOLBAR_OUTPUT = {
    "bold": "<strong>ngộ độc</strong>",
    "italic": "<em>dị ứng</em>",
    "bullets": "<ul>\n  <li>Ngừng sử dụng</li>\n  <li>Báo cho Hội</li>\n</ul>",
    "numbers": "<ol>\n  <li>Ngừng sử dụng</li>\n</ol>",
}


def test_what_the_toolbar_writes_survives_the_sanitiser():
    for markup in TOOLBAR_OUTPUT.values():
        assert sanitize(markup) == markup
    link = sanitize('<a href="https://vfa.gov.vn/canh-bao?a=1&amp;b=2">Cục ATTP</a>')
    assert link.startswith('<a href="https://vfa.gov.vn/canh-bao?a=1&amp;b=2"')
    assert link.endswith(">Cục ATTP</a>")
    script = SCRIPT.read_text(encoding="utf-8")
    for tag in ("<strong>", "<em>", '"<" + tag + ">', "<li>", '"<a href=\\""'):
        assert tag in script, tag
    assert 'innerHTML = ""' in script and ".innerHTML =" not in script.replace(
        'innerHTML = ""', ""
    )  # the script builds its elements, never HTML from the options' text


def test_the_form_works_without_the_script(app, world):
    client = signed_in(app, world["a"])
    page = client.get("/warnings/new").get_data(as_text=True)
    # the register entries are a plain multi-select (the picker's fallback), with its help
    select = re.search(r'<select[^>]*\bid="entries"[^>]*>', page)
    assert select and 'data-picker="1"' in select.group(0) and "multiple" in select.group(0)
    assert world["sample_code"] in page and "Giữ phím Ctrl" in page
    assert page.count('data-rich="1"') == 2
    assert '<script src="/static/js/warnings.js' in page
    assert "<script>" not in page  # no inline script (Content-Security-Policy)
    meta = re.search(r'<meta name="lims-strings" id="lims-strings" content="([^"]*)"', page)
    assert meta, "the scripts' texts"
    texts = json.loads(html.unescape(meta.group(1)))
    assert texts["warnings.bold"] == "Chữ đậm"
    assert texts["warnings.filter"].startswith("Gõ để lọc")
