"""Users, roles, login, API tokens and the one permission check."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401
