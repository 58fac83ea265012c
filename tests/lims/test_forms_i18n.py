"""WTForms' own validator messages come out in Vietnamese (WTForms ships no Vietnamese
catalogue; lims.forms.Form answers them from lims' catalogue)."""

from __future__ import annotations

from tests.conftest import post_form


def test_validator_messages_are_vietnamese(client):
    page = post_form(client, "/login", {"email": "", "password": ""}).get_data(as_text=True)
    assert "Trường này là bắt buộc." in page
    assert "This field is required." not in page

    page = post_form(client, "/login", {"email": "a" * 300, "password": "x"}).get_data(as_text=True)
    assert "Tối đa 254 ký tự." in page  # the plural form, with WTForms' own number filled in
    assert "longer than" not in page
