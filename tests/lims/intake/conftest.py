"""Intake fixtures: a technician, a category with parameters, an open campaign."""

from __future__ import annotations

from typing import Any

import pytest

from lims.extensions import db
from tests.lims.intake.intake_helpers import make_world


@pytest.fixture
def world(app_ctx: Any) -> dict[str, Any]:
    return make_world()


@pytest.fixture
def tech(world: dict[str, Any]) -> Any:
    from lims.auth.models import User

    return db.session.get(User, world["user_id"])
