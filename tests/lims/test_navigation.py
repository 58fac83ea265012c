"""The main menu is built once per role set and language, and shows each user their own."""

from __future__ import annotations

import re

from tests.conftest import login

LINKS = re.compile(r'<ul class="navbar-nav me-auto" id="nav-links">(.*?)</ul>', re.S)


def _menu(client) -> str:
    return LINKS.search(client.get("/").get_data(as_text=True)).group(1)


def test_menu_per_role_and_language(app, make_user):
    tech, admin = make_user("technician"), make_user("admin", locale="en")
    one, two, anonymous = app.test_client(), app.test_client(), app.test_client()
    assert login(one, tech.email, tech.password).status_code == 302
    assert login(two, admin.email, admin.password).status_code == 302
    for _ in range(2):  # the second time from the stored menus
        tech_menu, admin_menu = _menu(one), _menu(two)
        assert 'href="/intake/samples"' in tech_menu and ">Mẫu<" in tech_menu
        assert 'href="/admin/users"' not in tech_menu
        assert "/admin/users" in admin_menu and "/intake/samples" not in admin_menu
        anon_menu = _menu(anonymous)
        assert "/intake/samples" not in anon_menu and "/admin/users" not in anon_menu
    # the current page is marked (signed in, home is the brand: issue 18 item 14)
    samples = one.get("/intake/samples").get_data(as_text=True)
    assert 'class="nav-link active"' in LINKS.search(samples).group(1)
    assert 'id="brand-home"' in one.get("/").get_data(as_text=True)
