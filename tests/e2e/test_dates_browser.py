"""Issue 18 item 8: with the English interface a date field still shows and takes dd/mm/yyyy
(no native date picker in the browser's locale)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_date_filter_is_dd_mm_yyyy_with_the_english_interface(page, live_server):
    page.goto(live_server + "/public/warnings")
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("html[lang=en]")
    box = page.locator("#from")
    assert box.get_attribute("type") == "text"
    assert box.get_attribute("placeholder") == "dd/mm/yyyy"
    box.fill("05/12/2026")
    page.locator("#to").fill("31/12/2026")
    box.press("Enter")
    page.wait_for_url("**/public/warnings?*from=05%2F12%2F2026*")
    assert page.locator("#from").input_value() == "05/12/2026"  # read as 5 December, shown back
    assert page.locator("#to").input_value() == "31/12/2026"
    page.screenshot(path=str(ARTIFACTS / "issue18-date-filter-english.png"), full_page=True)
