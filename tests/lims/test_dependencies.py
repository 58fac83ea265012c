"""Dependencies whose private API lims uses carry an upper bound in pyproject.toml, and the
private names are still there in the installed versions (a new release that moves them fails
here, by name, instead of deep inside a PDF or a sign-in)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: distribution → the private names lims relies on
PRIVATE_API = {
    "reportlab": [
        ("reportlab.platypus.flowables", "_listWrapOn"),
        ("reportlab.platypus.paraparser", "ParaParser"),
        ("reportlab.platypus.paraparser", "ParaFrag"),
        ("reportlab.platypus.paragraph", "cleanBlockQuotedText"),
    ],
    "flask-login": [("flask_login", "LoginManager")],
}


def _requirements() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    out = {}
    for req in data["project"]["dependencies"]:
        name = re.split(r"[\[<>=!~ ;]", req, maxsplit=1)[0].lower()
        out[name] = req
    return out


@pytest.mark.parametrize("dist", sorted(PRIVATE_API))
def test_private_api_users_are_bounded_above(dist):
    requirement = _requirements()[dist]
    assert "<" in requirement, f"{requirement}: lims uses private API, give it an upper bound"


@pytest.mark.parametrize(("module", "name"), [n for names in PRIVATE_API.values() for n in names])
def test_private_names_still_exist(module, name):
    imported = __import__(module, fromlist=[name])
    assert hasattr(imported, name), f"{module}.{name} is gone"


def test_paragraph_keeps_the_attributes_the_wrap_cache_reads():
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    p = Paragraph("x y z", ParagraphStyle("s"))
    p.wrap(100, 100)
    for attr in ("frags", "blPara", "_wrapWidths", "height"):
        assert hasattr(p, attr), attr


def test_flask_login_session_keys_and_identifier(app, client, make_user):
    """lims/pagecache.py reads ``session["_user_id"]``, ``session["_id"]`` and
    ``login_manager._session_identifier_generator()``; sign in and look."""
    from tests.conftest import login

    make_user("technician", email="t@example.org", password="pw-123456")
    login(client, "t@example.org", "pw-123456")
    with client.session_transaction() as session:
        assert session.get("_user_id") and session.get("_id")
    with app.test_request_context():
        assert callable(app.login_manager._session_identifier_generator)
