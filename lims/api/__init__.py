"""JSON API v1 for agencies and field devices (Bearer API tokens), and its documentation as a
web page (``pages_bp``: ``/api/docs``, an ordinary page of the site, so the API itself answers
JSON only)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
pages_bp = Blueprint("api_pages", __name__)

from . import caching, certificates, docs_page, limits, openapi, samples, views  # noqa: E402,F401
