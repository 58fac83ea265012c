"""Certificates (Phiếu kết quả thử nghiệm): issue with re-authentication, stored PDF, amendments,
withdrawal, public verification and agency access."""

from flask import Blueprint

bp = Blueprint("certificates", __name__)

from . import views  # noqa: E402,F401
