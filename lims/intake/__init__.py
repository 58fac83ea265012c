"""Sample intake: survey campaigns, businesses, samples, receipt, labels, survey-sheet import."""

from flask import Blueprint

bp = Blueprint("intake", __name__, url_prefix="/intake")

from . import (  # noqa: E402,F401
    views_businesses,
    views_campaigns,
    views_labels,
    views_list,
    views_samples,
)
