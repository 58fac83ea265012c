"""JSON API v1 for agencies and field devices (Bearer API tokens)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import caching, certificates, docs_page, limits, openapi, samples, views  # noqa: E402,F401
