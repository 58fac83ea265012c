"""Analyst authorisation per method: entry and verification outside it are refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.catalog.models import Method
from lims.extensions import db
from lims.qc import authorisations
from lims.qc.materials import QcError
from lims.testing import analyser, entry, errors, verification

pytestmark = pytest.mark.usefixtures("english")


def histamine_method(lab):
    return db.session.scalar(sa.select(Method).where(Method.code == "m-histamine"))


def test_a_method_without_authorisations_is_open(lab, make_sample):
    test = make_sample("histamine").tests[0]
    result = entry.enter_result(actor=lab.tech2, test=test, text="50")
    assert verification.verify_results(actor=lab.reviewer2, results=[result]) == 1


def test_entry_and_verification_need_an_authorisation_once_one_exists(lab, make_sample):
    method = histamine_method(lab)
    today = date.today()
    authorisations.grant(
        actor=lab.reviewer, user=lab.tech, method=method, may_enter=True, may_verify=False,
        valid_from=today - timedelta(days=30),
    )  # fmt: skip
    authorisations.grant(
        actor=lab.reviewer, user=lab.reviewer, method=method, may_enter=False, may_verify=True,
        valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=30),
    )  # fmt: skip
    db.session.commit()
    test = make_sample("histamine").tests[0]
    with pytest.raises(errors.ResultError, match="not authorised to enter results of method"):
        entry.enter_result(actor=lab.tech2, test=test, text="50")
    db.session.rollback()
    result = entry.enter_result(actor=lab.tech, test=test, text="50")
    db.session.commit()
    with pytest.raises(errors.ResultError, match="not authorised to verify results of method"):
        verification.verify_results(actor=lab.reviewer2, results=[result])
    db.session.rollback()
    assert verification.verify_results(actor=lab.reviewer, results=[result]) == 1
    # another method stays open
    ph = make_sample("ph").tests[0]
    entry.enter_result(actor=lab.tech2, test=ph, text="5,5")
    assert {"qc.authorisation.grant"} <= set(db.session.scalars(sa.select(AuditEvent.action)))


def test_dates_and_withdrawal(lab, make_sample):
    method = histamine_method(lab)
    today = date.today()
    old = authorisations.grant(
        actor=lab.reviewer, user=lab.tech, method=method, may_enter=True, may_verify=False,
        valid_from=today - timedelta(days=400), valid_until=today - timedelta(days=1),
    )  # fmt: skip
    db.session.commit()
    test = make_sample("histamine").tests[0]
    with pytest.raises(errors.ResultError, match="not authorised to enter"):
        entry.enter_result(actor=lab.tech, test=test, text="50")
    db.session.rollback()
    current = authorisations.grant(
        actor=lab.reviewer, user=lab.tech, method=method, may_enter=True, may_verify=False,
        valid_from=today,
    )  # fmt: skip
    db.session.commit()
    entry.enter_result(actor=lab.tech, test=test, text="50")
    db.session.commit()
    with pytest.raises(QcError, match="reason"):
        authorisations.withdraw(actor=lab.reviewer, authorisation=current, reason=" ")
    authorisations.withdraw(actor=lab.reviewer, authorisation=current, reason="Left the lab")
    db.session.commit()
    with pytest.raises(errors.ResultError, match="not authorised to enter"):
        entry.enter_result(actor=lab.tech, test=test, text="60", reason="retyped")
    assert old.valid_on(today) is False


def test_grant_refusals(lab):
    method = histamine_method(lab)
    today = date.today()
    kwargs = dict(actor=lab.reviewer, method=method, valid_from=today)
    with pytest.raises(QcError, match="entry, verification or both"):
        authorisations.grant(user=lab.tech, may_enter=False, may_verify=False, **kwargs)
    with pytest.raises(QcError, match="Only a reviewer"):
        authorisations.grant(user=lab.tech, may_enter=True, may_verify=True, **kwargs)
    with pytest.raises(QcError, match="ends before it starts"):
        authorisations.grant(
            user=lab.tech, may_enter=True, may_verify=False,
            valid_until=today - timedelta(days=1), **kwargs,
        )  # fmt: skip
    from lims.auth.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        authorisations.grant(
            actor=lab.tech, user=lab.tech, method=method, may_enter=True, may_verify=False,
            valid_from=today,
        )  # fmt: skip


def test_an_analysers_results_are_not_refused(lab, make_sample):
    """The analyser's system account enters what the instrument sent; verification still needs
    the reviewer's authorisation."""
    method = histamine_method(lab)
    authorisations.grant(
        actor=lab.reviewer, user=lab.tech, method=method, may_enter=True, may_verify=False,
        valid_from=date.today(),
    )  # fmt: skip
    db.session.commit()
    test = make_sample("histamine").tests[0]
    result = entry.enter_without_role_check(actor=analyser.analyser_account(), test=test, text="42")
    db.session.commit()
    assert result.entered_by_id == analyser.analyser_account().id
    with pytest.raises(errors.ResultError, match="not authorised to verify"):
        verification.verify_results(actor=lab.reviewer, results=[result])
