"""Batches, QC evaluation and the release hold (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.extensions import db
from lims.qc import decisions, judging
from lims.qc import services as qc_services
from lims.qc.materials import QcError
from lims.qc.models import BatchStatus, QcBatch
from lims.qc.services import ItemSpec
from lims.testing import checks, entry, errors, verification
from lims.testing.models import Notification

pytestmark = pytest.mark.usefixtures("english")


def histamine_test(make_sample):
    sample = make_sample("histamine")
    return sample.tests[0]


def new_batch(qc, tests, *extra, run_on=None, lot_ids=()):
    items = [ItemSpec(qc.crm.id, qc.crm_lot.id), ItemSpec(qc.blank.id), *extra]
    batch = qc_services.create_batch(
        actor=qc.lab.tech,
        parameter_method_id=qc.pm.id,
        test_ids=[t.id for t in tests],
        items=items,
        run_on=run_on,
        lot_ids=lot_ids,
    )
    db.session.commit()
    return batch


def values(batch, *rows):
    """QC values in item order: a number, or a dict of fields."""
    out = {}
    for item, row in zip(batch.items, rows, strict=True):
        out[item.id] = row if isinstance(row, dict) else {"value": row}
    qc_services.enter_values(actor=batch_actor(batch), batch=batch, values=out)
    db.session.commit()
    return batch


def batch_actor(batch):
    from lims.auth.models import User

    return db.session.get(User, batch.created_by_id)


def enter(qc, test, text="120"):
    result = entry.enter_result(actor=qc.lab.tech, test=test, text=text)
    db.session.commit()
    return result


def verify(qc, result):
    n = verification.verify_results(actor=qc.lab.reviewer, results=[result])
    db.session.commit()
    return n


def actions():
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_accepted_batch_lets_results_be_verified(qc, make_sample):
    test = histamine_test(make_sample)
    batch = new_batch(qc, [test], lot_ids=[qc.reagent_lot.id])
    result = enter(qc, test)
    assert batch.status == BatchStatus.OPEN
    values(batch, "103,5", "2")
    assert batch.status == BatchStatus.ACCEPTED
    crm_item = batch.items[0]
    assert crm_item.z == Decimal("0.7") and crm_item.rules == [] and crm_item.outcome == "pass"
    assert batch.items[1].outcome == "pass"
    assert verify(qc, result) == 1
    assert {"qc.batch.create", "qc.batch.values"} <= set(actions())
    assert [lot.lot_number for lot in qc_services.batch_lots(batch)] == ["R-7"]


def test_open_batch_holds_verification(qc, make_sample):
    test = histamine_test(make_sample)
    new_batch(qc, [test])
    result = enter(qc, test)
    with pytest.raises(errors.ResultError, match=r"waits for the QC of batch QC-\d{5}"):
        verify(qc, result)
    db.session.rollback()
    assert result.test.status == "entered"


def test_failing_crm_holds_until_released_with_justification(qc, make_sample):
    t1, t2 = histamine_test(make_sample), histamine_test(make_sample)
    batch = new_batch(qc, [t1, t2])
    r1, r2 = enter(qc, t1), enter(qc, t2, "80")
    values(batch, "116", "1")  # z = 3.2: 1-3s
    assert batch.status == BatchStatus.REJECTED
    assert batch.items[0].rules == ["1-2s", "1-3s"] and batch.items[0].outcome == "fail"
    assert batch.violated[0]["material"] == "CRM-HIS"
    # reviewers are told
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 2
    for result in (r1, r2):
        with pytest.raises(errors.ResultError, match="is held: the QC of batch .* failed"):
            verify(qc, result)
        db.session.rollback()
    # the release needs a corrective action and a justification, and only a reviewer gives it
    with pytest.raises(QcError, match="corrective action"):
        decisions.release_batch(
            actor=qc.lab.reviewer, batch=batch, corrective_action=" ", justification="x"
        )
    with pytest.raises(QcError, match="justification"):
        decisions.release_batch(
            actor=qc.lab.reviewer, batch=batch, corrective_action="Recalibrated", justification=""
        )
    from lims.auth.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        decisions.release_batch(
            actor=qc.lab.tech, batch=batch, corrective_action="a", justification="b"
        )
    db.session.rollback()
    assert db.session.get(QcBatch, batch.id).status == BatchStatus.REJECTED
    decisions.release_batch(
        actor=qc.lab.reviewer,
        batch=batch,
        corrective_action="CRM vial re-opened; column checked",
        justification="Second CRM injection 101 mg/kg within limits",
    )
    db.session.commit()
    assert batch.status == BatchStatus.RELEASED
    assert verify(qc, r1) == 1
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "qc.batch.release"))
    assert event.reason == "Second CRM injection 101 mg/kg within limits"
    # closed: the QC values cannot change any more
    with pytest.raises(QcError, match="closed"):
        values(batch, "100", "1")


def test_rerun_replaces_the_batch_and_holds_until_its_qc_passes(qc, make_sample):
    test = histamine_test(make_sample)
    batch = new_batch(qc, [test])
    result = enter(qc, test)
    values(batch, "84", "1")  # z = -3.2
    assert batch.status == BatchStatus.REJECTED
    new = decisions.rerun_batch(
        actor=qc.lab.reviewer, batch=batch, corrective_action="New calibration curve"
    )
    db.session.commit()
    assert batch.status == BatchStatus.RERUN and new.rerun_of_id == batch.id
    assert [i.material.code for i in new.items] == ["CRM-HIS", "BLK"]
    assert new.items[0].value is None
    assert qc_services.batches_of_tests([test.id])[test.id].id == new.id
    with pytest.raises(errors.ResultError, match=f"waits for the QC of batch {new.code}"):
        verify(qc, result)
    db.session.rollback()
    values(new, "99", "0")
    assert new.status == BatchStatus.ACCEPTED
    assert verify(qc, result) == 1
    assert "qc.batch.rerun" in actions()


def test_values_locked_once_a_result_is_verified(qc, make_sample):
    test = histamine_test(make_sample)
    batch = new_batch(qc, [test])
    result = enter(qc, test)
    values(batch, "100", "0")
    verify(qc, result)
    with pytest.raises(QcError, match="verified"):
        values(batch, "130", "0")


def test_batch_refusals(qc, make_sample):
    test = histamine_test(make_sample)
    ph = make_sample("ph").tests[0]
    tech = qc.lab.tech
    cases = [
        (dict(items=[ItemSpec(qc.crm.id, qc.old_lot.id)]), "expired on 31/01/2021"),
        (dict(items=[ItemSpec(qc.crm.id)]), "Choose the lot"),
        (dict(items=[]), "at least one QC item"),
        (dict(items=[ItemSpec(qc.blank.id)], lot_ids=[qc.expired_reagent.id]), "expired"),
        (dict(items=[ItemSpec(qc.blank.id)], test_ids=[ph.id]), "not a test of this parameter"),
        (dict(items=[ItemSpec(qc.dup.id)]), "Choose the sample of the batch"),
        (dict(items=[ItemSpec(qc.blank.id)], run_on=date.today() + timedelta(days=2)), "future"),
    ]
    for kwargs, message in cases:
        kwargs.setdefault("test_ids", [test.id])
        with pytest.raises(QcError, match=message):
            qc_services.create_batch(actor=tech, parameter_method_id=qc.pm.id, **kwargs)
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(QcBatch.id))) == 0
    new_batch(qc, [test])
    with pytest.raises(QcError, match=r"already in batch QC-\d{5}"):
        new_batch(qc, [test])


def test_an_uncalibrated_instrument_is_refused(qc, make_sample):
    from lims.equipment.models import Instrument

    instrument = Instrument(
        name="HPLC-01", kind="balance", protocol="mtsics", port_url="loop://", baudrate=9600,
        bytesize=8, parity="N", stopbits="1",
    )  # fmt: skip
    db.session.add(instrument)
    db.session.commit()
    with pytest.raises(
        QcError,
        match="instrument cannot be used: (No calibration on record|Chưa có hồ sơ hiệu chuẩn)",
    ):
        qc_services.create_batch(
            actor=qc.lab.tech,
            parameter_method_id=qc.pm.id,
            test_ids=[histamine_test(make_sample).id],
            items=[ItemSpec(qc.blank.id)],
            instrument_id=instrument.id,
        )


def test_duplicate_and_spike_limits(qc, make_sample):
    test = histamine_test(make_sample)
    batch = new_batch(
        qc,
        [test],
        ItemSpec(qc.dup.id, test_id=test.id),
        ItemSpec(qc.spike.id, qc.spike_lot.id, test_id=test.id),
    )
    values(
        batch,
        "100",
        "1",
        {"value": "120", "value2": "100"},  # RPD 18.2 % > 10 %
        {"value": "148", "value2": "100", "added": "50"},  # recovery 96 %
    )
    assert batch.status == BatchStatus.REJECTED
    dup, spike = batch.items[2], batch.items[3]
    assert dup.outcome == "fail" and "RPD 18.2 %" in dup.detail
    assert spike.outcome == "pass" and "R 96.0 % (80–110 %)" in spike.detail
    assert "DUP: RPD 18.2 %" in judging.failure_summary(batch)
    values(
        batch,
        "100",
        "1",
        {"value": "104", "value2": "100"},
        {"value": "120", "value2": "100", "added": "50"},
    )
    assert dup.outcome == "pass" and spike.outcome == "fail"
    assert batch.status == BatchStatus.REJECTED


def test_a_huge_value_is_stored_and_fails(qc, make_sample):
    """A z-score beyond the column's range is stored at its bound (never a database error)."""
    from lims.qc import materials

    materials.set_acceptance(
        actor=qc.lab.reviewer, material=qc.crm, parameter_method=qc.pm, target="1", sd="0.00000001"
    )
    db.session.commit()
    batch = new_batch(qc, [histamine_test(make_sample)])
    values(batch, "999999999", "0")
    assert batch.status == BatchStatus.REJECTED
    db.session.expire_all()
    assert db.session.get(QcBatch, batch.id).items[0].z == Decimal("99999999")


def test_incomplete_items_keep_the_batch_open(qc, make_sample):
    test = histamine_test(make_sample)
    batch = new_batch(qc, [test], ItemSpec(qc.dup.id, test_id=test.id))
    values(batch, "100", "1", {"value": "100"})
    assert batch.status == BatchStatus.OPEN
    with pytest.raises(QcError, match="Enter a number|not a number|số"):
        qc_services.enter_values(
            actor=qc.lab.tech, batch=batch, values={batch.items[0].id: {"value": "abc"}}
        )


def test_rules_look_back_on_earlier_batches(qc, make_sample):
    """2-2s across two runs: each point alone is only a warning."""
    first = new_batch(qc, [histamine_test(make_sample)], run_on=date.today() - timedelta(days=1))
    values(first, "111", "0")  # z = 2.2
    assert first.status == BatchStatus.ACCEPTED and first.items[0].outcome == "warning"
    second = new_batch(qc, [histamine_test(make_sample)])
    values(second, "111,5", "0")
    assert second.items[0].rules == ["1-2s", "2-2s"]
    assert second.status == BatchStatus.REJECTED


def test_target_established_from_the_first_runs(qc, make_sample):
    from lims.qc import materials

    rm = materials.create_material(
        actor=qc.lab.reviewer, code="RM-1", name="In-house RM", kind="rm"
    )
    lot = materials.add_lot(
        actor=qc.lab.reviewer, material=rm, lot_number="A", expires_on=date(2099, 1, 1)
    )
    materials.set_acceptance(
        actor=qc.lab.reviewer, material=rm, parameter_method=qc.pm, establish_runs=3
    )
    db.session.commit()
    day0 = date.today() - timedelta(days=10)
    for i, value in enumerate(["50", "52", "48"]):
        batch = qc_services.create_batch(
            actor=qc.lab.tech,
            parameter_method_id=qc.pm.id,
            test_ids=[histamine_test(make_sample).id],
            items=[ItemSpec(rm.id, lot.id)],
            run_on=day0 + timedelta(days=i),
        )
        values(batch, value)
        assert batch.items[0].outcome == "establishing" and batch.status == BatchStatus.ACCEPTED
    assert judging.chart_limits(materials.acceptance_for(rm.id, qc.pm.id)) == (
        Decimal(50),
        Decimal(2),
    )
    batch = qc_services.create_batch(
        actor=qc.lab.tech,
        parameter_method_id=qc.pm.id,
        test_ids=[histamine_test(make_sample).id],
        items=[ItemSpec(rm.id, lot.id)],
    )
    values(batch, "57")  # z = 3.5
    assert batch.items[0].rules == ["1-2s", "1-3s"]
    assert batch.status == BatchStatus.REJECTED


def test_acceptance_refusals(qc):
    from lims.qc import materials

    rev = qc.lab.reviewer
    with pytest.raises(QcError, match="target and SD"):
        materials.set_acceptance(
            actor=rev, material=qc.crm, parameter_method=qc.pm, sd=None, certified_value=None
        )
    with pytest.raises(QcError, match="greater than zero"):
        materials.set_acceptance(
            actor=rev, material=qc.crm, parameter_method=qc.pm, target="1", sd="0"
        )
    with pytest.raises(QcError, match="RPD"):
        materials.set_acceptance(actor=rev, material=qc.dup, parameter_method=qc.pm)
    with pytest.raises(QcError, match="above the upper"):
        materials.set_acceptance(
            actor=rev,
            material=qc.spike,
            parameter_method=qc.pm,
            recovery_low="110",
            recovery_high="80",
        )
    with pytest.raises(QcError, match="exists"):
        materials.create_material(actor=rev, code="CRM-HIS", name="x", kind="crm")
    with pytest.raises(QcError, match="already has a lot"):
        materials.add_lot(
            actor=rev, material=qc.crm, lot_number="L-2026-01", expires_on=date(2099, 1, 1)
        )


def test_report_check_refuses_held_results(qc, make_sample):
    """Certificates ask the same check before reporting."""
    test = histamine_test(make_sample)
    batch = new_batch(qc, [test])
    enter(qc, test)
    values(batch, "130", "0")
    with pytest.raises(errors.ResultError, match="is held"):
        checks.check_results_allowed(actor=qc.lab.reviewer, tests=[test], action="report")
