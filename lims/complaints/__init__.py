"""Consumer complaints and the hotline: the association's register and handling workflow with
legal deadlines, the public complaint form and tracking page, sample requests to the lab."""

from typing import Any

from flask import Blueprint, current_app

bp = Blueprint("complaints", __name__)
public_bp = Blueprint("public_complaints", __name__, url_prefix="/public/complaints")


@public_bp.app_context_processor
def _hotline() -> dict[str, Any]:
    """The hotline number and hours (settings), shown on public pages and in the footer."""
    cfg = current_app.config
    return {
        "consumer_hotline": {
            "number": cfg.get("ASSOCIATION_HOTLINE") or "",
            "hours": cfg.get("ASSOCIATION_HOTLINE_HOURS") or "",
            "national": cfg.get("NATIONAL_CONSUMER_HOTLINE") or "",
        }
    }


from . import views, views_data, views_lab, views_public, views_testing  # noqa: E402,F401
