"""Results, calculations, verdicts, verification and the non-compliance register."""

from flask import Blueprint

bp = Blueprint("testing", __name__, url_prefix="/testing")

from . import views, views_notifications, views_register, views_review  # noqa: E402,F401
from .resultfiles import views as resultfile_views  # noqa: E402,F401
