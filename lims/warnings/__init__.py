"""Consumer warnings and bulletins of the consumer-protection association, with public pages
and an Atom feed."""

from flask import Blueprint

bp = Blueprint("warnings", __name__)
public_bp = Blueprint("public", __name__, url_prefix="/public")

from . import views, views_bulletins, views_public  # noqa: E402,F401
