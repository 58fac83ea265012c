"""Builders for warning tests: two association users, failing verified samples with an issued
certificate (the certificate builders of tests/lims/certificates/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from lims.auth.models import User
from lims.certificates import issuing
from lims.extensions import db
from lims.testing.models import NonConformity
from tests.lims.certificates.conftest import (  # noqa: F401  (fixtures)
    SIGNER_PASSWORD,
    signer,
    verified_sample,
)
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401  (fixtures)

FAILING = {"ph": "5,85", "histamine": "520"}


@pytest.fixture
def authors(lab, make_user) -> tuple[User, User]:  # noqa: F811
    """Two association users: A (author) and B (approver)."""
    a = make_user("association", email="hoa@assoc.vn", name="Nguyễn Thị Hoa")
    b = make_user("association", email="binh@assoc.vn", name="Trần Văn Bình")
    return db.session.get(User, a.id), db.session.get(User, b.id)


@pytest.fixture
def failing_entry(lab, signer, verified_sample) -> Callable[..., Any]:  # noqa: F811
    """A register entry (failing histamine) whose sample has an issued certificate."""

    def build(*, certify: bool = True) -> NonConformity:
        sample = verified_sample(FAILING)
        if certify:
            issuing.issue_certificate(
                actor=db.session.get(User, signer.id), sample=sample, password=SIGNER_PASSWORD
            )
        entry = db.session.scalar(
            sa.select(NonConformity).where(NonConformity.sample_id == sample.id)
        )
        assert entry is not None
        db.session.commit()
        return entry

    return build


def build_world(app: Any, make_user: Callable[..., Any]) -> dict[str, Any]:
    """For page and browser tests: the results lab, a signatory, one failing verified sample
    with its certificate and two association users, built in an app context that is closed
    again (so each request of a test client gets its own). Returns ids, e-mails, passwords."""
    from lims.auth.models import SignatoryScope
    from tests.lims.testing.conftest import build_lab, sample_builder

    with app.app_context():
        lab_ = build_lab(make_user)
        signer_ = db.session.get(User, lab_.reviewer2.id)
        signer_.signatory = True
        signer_.scope_rows = [SignatoryScope(category_id=lab_.category.id)]
        db.session.commit()
        build = sample_builder(lab_)
        sample = build(*FAILING)
        other_sample_id = build().id  # a second sample (no register entry), for refusals
        entered = []
        from lims.testing import services as testing

        by_id = {p.id: k for k, p in lab_.params.items()}
        for test in sample.tests:
            text = FAILING[by_id[test.parameter_id]]
            entered.append(testing.enter_result(actor=lab_.tech, test=test, text=text))
        testing.verify_results(actor=lab_.reviewer, results=entered)
        db.session.commit()
        db.session.refresh(sample)
        issuing.issue_certificate(actor=signer_, sample=sample, password="correct-horse-1")
        entry = db.session.scalar(
            sa.select(NonConformity).where(NonConformity.sample_id == sample.id)
        )
        db.session.commit()
        entry_id, sample_code, sample_id = entry.id, sample.code, sample.id
        db.session.remove()
    a = make_user("association", email="hoa@assoc.vn", name="Nguyễn Thị Hoa",
                  password="assoc-a-pass-1")  # fmt: skip
    b = make_user("association", email="binh@assoc.vn", name="Trần Văn Bình",
                  password="assoc-b-pass-1")  # fmt: skip
    return {
        "entry_id": entry_id, "sample_code": sample_code, "sample_id": sample_id,
        "other_sample_id": other_sample_id, "a": a, "b": b,
    }  # fmt: skip


@pytest.fixture
def world(app: Any, make_user: Callable[..., Any]) -> dict[str, Any]:
    """The world of the page tests (:func:`build_world`), built without an app context held."""
    return build_world(app, make_user)


def signed_in(app: Any, user: Any) -> Any:
    """A test client of its own, signed in as ``user`` (who has ``email`` and ``password``)."""
    from tests.conftest import login

    client = app.test_client()
    assert login(client, user.email, user.password).status_code == 302
    return client
