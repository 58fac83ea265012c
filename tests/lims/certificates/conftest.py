"""Builders for certificate tests: the results lab (tests/lims/testing/conftest.py), a signatory
reviewer, and verified samples with results entered by a technician and verified by a reviewer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lims.auth.models import SignatoryScope, User
from lims.extensions import db
from lims.intake.models import Sample
from lims.testing import services as testing
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401  (fixtures)

SIGNER_PASSWORD = "correct-horse-1"
DEFAULT_RESULTS = {"ph": "5,85", "histamine": "<10", "formol": "KPH"}


@pytest.fixture
def signer(lab) -> User:  # noqa: F811
    """lab.reviewer2, made an authorised signatory for the fish-sauce category."""
    user = db.session.get(User, lab.reviewer2.id)
    user.signatory = True
    user.job_title = "Trưởng phòng Thử nghiệm"
    user.job_title_en = "Head of Testing"
    user.scope_rows = [SignatoryScope(category_id=lab.category.id)]
    db.session.commit()
    return user


@pytest.fixture
def verified_sample(lab, make_sample) -> Callable[..., Sample]:  # noqa: F811
    def build(results: dict[str, str] | None = None) -> Sample:
        results = results or DEFAULT_RESULTS
        sample = make_sample(*results)
        entered = [
            testing.enter_result(
                actor=lab.tech, test=test, text=results[_key(lab, test.parameter_id)]
            )
            for test in sample.tests
        ]
        testing.verify_results(actor=lab.reviewer, results=entered)
        db.session.commit()
        db.session.refresh(sample)
        assert sample.status == "verified", sample.status
        return sample

    return build


def _key(lab: Any, parameter_id: int) -> str:  # noqa: F811
    return next(k for k, p in lab.params.items() if p.id == parameter_id)


def method_row(lab: Any, key: str) -> Any:  # noqa: F811
    """The (only) parameter × method row of ``lab.params[key]``."""
    from lims.catalog.parameter_methods import parameter_methods

    return parameter_methods(lab.params[key].id)[0]
