"""Test catalogue: product categories, parameters, methods, specifications, decision rules."""

from flask import Blueprint

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

from . import views, views_methods, views_specifications  # noqa: E402,F401
