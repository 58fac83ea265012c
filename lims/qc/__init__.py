"""Internal quality control (ISO/IEC 17025 §7.7): QC materials and lots, batches and their QC
items, acceptance by Westgard rules, the release hold, charts, analyst authorisation."""

from flask import Blueprint

bp = Blueprint("qc", __name__, url_prefix="/qc")

from . import views, views_catalog  # noqa: E402,F401
