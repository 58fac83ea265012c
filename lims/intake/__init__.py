"""Sample intake: survey campaigns, businesses, samples, receipt, labels, survey-sheet import."""

from flask import Blueprint

bp = Blueprint("intake", __name__, url_prefix="/intake")

from . import views, views_list  # noqa: E402,F401
