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


def test_an_integer_beyond_any_column_is_refused_with_a_message(client, login_as):
    """Found by the hostile-forms walk (CI): a 400-digit "Valid for (days)" or header row made
    WTForms' NumberRange overflow converting it to a float, a 500. Every integer field of every
    form refuses it with a message (lims.forms.Form), and nothing is created."""
    login_as("technician")
    response = post_form(
        client,
        "/account/tokens",
        {"tok-name": "máy đọc cân", "tok-expires_days": "9" * 400},
        page="/account",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Số quá lớn." in page
    assert "máy đọc cân" not in client.get("/account").get_data(as_text=True)
