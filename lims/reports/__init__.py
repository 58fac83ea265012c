"""Work queues, dashboards and programme reports (floor 8: reads every feature)."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from . import views  # noqa: E402,F401
