"""Equipment: the instrument register, calibrations, readings captured from instruments and
messages received from analysers."""

from flask import Blueprint

bp = Blueprint("equipment", __name__, url_prefix="/equipment")

from . import views  # noqa: E402,F401
