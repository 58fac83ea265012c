"""Intake services: campaigns, businesses, registration, codes, receipt, tests, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lims.audit.models import AuditEvent
from lims.audit.queries import list_events
from lims.auth.permissions import PermissionDenied
from lims.auth.services import create_user
from lims.extensions import db, utcnow
from lims.intake.businesses import (
    DuplicateBusiness,
    create_business,
    find_duplicate_businesses,
    search_businesses,
    update_business,
)
from lims.intake.campaigns import close_campaign, create_campaign, update_campaign
from lims.intake.codes import CodePatternError
from lims.intake.models import (
    Campaign,
    Sample,
    SampleCodeCounter,
    SamplePhoto,
    SampleStatus,
    SampleTest,
    TestStatus,
)
from lims.intake.photos import PhotoUpload
from lims.intake.receipt import add_test, cancel_sample, receive_sample, reject_sample, remove_test
from lims.intake.registration import register_sample
from lims.intake.validation import IntakeError, parse_sample_fields
from tests.lims.intake.intake_helpers import JPEG_HEAD, PNG_1PX, raw_sample


def register(world, actor, photos=(), parameter_ids=None, **overrides):
    data = parse_sample_fields(raw_sample(world, **overrides))
    if parameter_ids is None:
        parameter_ids = world["parameter_ids"][:2]
    return register_sample(actor=actor, data=data, photos=photos, parameter_ids=parameter_ids)


def user(*roles, email=None):
    u = create_user(
        actor=None,
        email=email or f"{'-'.join(roles)}@svc.example.org",
        name="Người dùng",
        roles=list(roles),
        password="pw-123456",
    )
    db.session.flush()
    return u


# --- registration and codes -------------------------------------------------------------


def test_register_allocates_code_tests_photos_and_audits(world, tech):
    sample = register(
        world,
        tech,
        photos=[PhotoUpload("nhan.png", PNG_1PX), PhotoUpload("mat-sau.jpeg", JPEG_HEAD)],
    )
    db.session.commit()
    assert sample.code == "KH-26-000001" and (sample.code_year, sample.code_seq) == (2026, 1)
    assert sample.status == SampleStatus.REGISTERED
    assert [t.parameter_id for t in sample.tests] == world["parameter_ids"][:2]
    assert [p.content_type for p in sample.photos] == ["image/png", "image/jpeg"]
    assert sample.photos[0].size == len(PNG_1PX) and len(sample.photos[0].sha256) == 64
    assert "nuoc mam ca com" in sample.search_key and "kh 26 000001" in sample.search_key
    assert "tap hoa ba nam" in sample.search_key
    event = list_events(entity_type="sample", entity_id=str(sample.id))[0]
    assert event.action == "sample.register" and event.after["code"] == sample.code
    assert event.after["price"] == "85000"
    second = register(world, tech)
    assert second.code == "KH-26-000002"


def test_code_year_is_the_local_year_of_sampling(world, tech):
    # 31/12/2025 23:30 in Nha Trang is still 2025 there (16:30 UTC)
    sample = register(
        world, tech, sampled_at="31/12/2025 23:30", production_date="", expiry_date=""
    )
    assert sample.code == "KH-25-000001"
    sample = register(
        world, tech, sampled_at="2025-12-31T17:30:00Z", production_date=""
    )  # 00:30 on 1/1/2026
    assert sample.code == "KH-26-000001"


def test_code_pattern_from_config_and_bad_pattern_saves_nothing(app, world, tech):
    app.config["SAMPLE_CODE_PATTERN"] = "MAU{yyyy}-{seq:04d}"
    assert register(world, tech).code == "MAU2026-0001"
    db.session.commit()
    app.config["SAMPLE_CODE_PATTERN"] = "MAU-{seq:04d}"
    with pytest.raises(CodePatternError):
        register(world, tech)
    db.session.rollback()
    assert db.session.scalar(sa.select(SampleCodeCounter.last_seq)) == 1


def test_cancelled_codes_stay_taken_and_rollback_leaves_no_gap(world, tech):
    first = register(world, tech)
    cancel_sample(actor=tech, sample=first, reason="Trùng mẫu")
    db.session.commit()
    register(world, tech)
    db.session.rollback()  # a registration that fails later releases its number
    again = register(world, tech)
    db.session.commit()
    assert again.code == "KH-26-000002"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 2


def test_register_uses_category_profile_when_no_parameters_given(world, tech):
    pytest.importorskip("lims.catalog.profiles")
    from lims.catalog.profiles import profile_parameters

    expected = [p.id for p in profile_parameters(world["category_id"])]
    sample = register_sample(actor=tech, data=parse_sample_fields(raw_sample(world)))
    assert [t.parameter_id for t in sample.tests] == expected


def test_register_requires_technician(world):
    reviewer = user("reviewer")
    with pytest.raises(PermissionDenied):
        register(world, reviewer)
    with pytest.raises(PermissionDenied):
        register(world, user("agency"))


def test_closed_campaign_takes_no_samples(world, tech):
    campaign = db.session.get(Campaign, world["campaign_id"])
    close_campaign(actor=tech, campaign=campaign, reason="Kết thúc đợt")
    with pytest.raises(IntakeError) as exc:
        register(world, tech)
    assert exc.value.field == "campaign_id"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"campaign_id": "999"}, "campaign_id"),
        ({"category_id": "999"}, "category_id"),
        ({"business_id": "999"}, "business_id"),
    ],
)
def test_unknown_references_are_refused(world, tech, overrides, field):
    with pytest.raises(IntakeError) as exc:
        register(world, tech, **overrides)
    assert exc.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 0


def test_unknown_parameter_is_refused(world, tech):
    with pytest.raises(IntakeError) as exc:
        register(world, tech, parameter_ids=[999])
    assert exc.value.field == "parameter_ids"


@pytest.mark.parametrize(
    "photo",
    [
        PhotoUpload("anh.jpg", b"GIF89a" + b"\0" * 30),  # a GIF named .jpg
        PhotoUpload("anh.png", b"<svg/>"),
        PhotoUpload("anh.jpg", b""),
    ],
)
def test_bad_photos_are_refused_and_nothing_saved(world, tech, photo):
    with pytest.raises(IntakeError) as exc:
        register(world, tech, photos=[PhotoUpload("ok.png", PNG_1PX), photo])
    assert exc.value.field == "photos"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SamplePhoto)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 0


def test_photo_size_limit_is_configurable(app, world, tech):
    app.config["PHOTO_MAX_BYTES"] = 100
    with pytest.raises(IntakeError) as exc:
        register(world, tech, photos=[PhotoUpload("big.jpg", JPEG_HEAD + b"\0" * 100)])
    assert exc.value.field == "photos"
    assert register(world, tech, photos=[PhotoUpload("ok.png", PNG_1PX)]).photos


# --- receipt transitions ---------------------------------------------------------------


def test_receive(world, tech):
    sample = register(world, tech)
    receive_sample(
        actor=tech, sample=sample, condition="Nguyên niêm phong", storage_location="Tủ A2"
    )
    assert sample.status == SampleStatus.RECEIVED and sample.received_by_id == tech.id
    assert sample.received_at is not None
    event = list_events(entity_type="sample", entity_id=str(sample.id))[0]
    assert event.action == "sample.receive" and event.after["storage_location"] == "Tủ A2"
    with pytest.raises(IntakeError):  # only once
        receive_sample(actor=tech, sample=sample, condition="x", storage_location="y")


def test_reviewer_may_receive_agency_may_not(world, tech):
    sample = register(world, tech)
    with pytest.raises(PermissionDenied):
        receive_sample(actor=user("agency"), sample=sample, condition="a", storage_location="b")
    receive_sample(actor=user("reviewer"), sample=sample, condition="a", storage_location="b")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"condition": " "}, "condition"),
        ({"storage_location": ""}, "storage_location"),
        ({"condition": "x" * 501}, "condition"),
    ],
)
def test_receive_needs_condition_and_location(world, tech, kwargs, field):
    sample = register(world, tech)
    values = {"condition": "Tốt", "storage_location": "Tủ A1", **kwargs}
    with pytest.raises(IntakeError) as exc:
        receive_sample(actor=tech, sample=sample, **values)
    assert exc.value.field == field
    assert sample.status == SampleStatus.REGISTERED


def test_receive_time_checks(world, tech):
    sample = register(world, tech)
    with pytest.raises(IntakeError) as exc:
        receive_sample(
            actor=tech,
            sample=sample,
            condition="a",
            storage_location="b",
            received_at=utcnow() + timedelta(hours=2),
        )
    assert exc.value.field == "received_at"
    with pytest.raises(IntakeError):
        receive_sample(
            actor=tech,
            sample=sample,
            condition="a",
            storage_location="b",
            received_at=sample.sampled_at - timedelta(hours=1),
        )


def test_reject_needs_reason_and_only_from_registered(world, tech):
    sample = register(world, tech)
    with pytest.raises(IntakeError) as exc:
        reject_sample(actor=tech, sample=sample, reason="  ")
    assert exc.value.field == "reason"
    reject_sample(actor=tech, sample=sample, reason="Niêm phong bị rách")
    assert sample.status == SampleStatus.REJECTED
    assert sample.rejection_reason == "Niêm phong bị rách"
    event = list_events(entity_type="sample", entity_id=str(sample.id))[0]
    assert (event.action, event.reason) == ("sample.reject", "Niêm phong bị rách")
    with pytest.raises(IntakeError):
        cancel_sample(actor=tech, sample=sample, reason="x")
    received = register(world, tech)
    receive_sample(actor=tech, sample=received, condition="a", storage_location="b")
    with pytest.raises(IntakeError):
        reject_sample(actor=tech, sample=received, reason="x")


def test_cancel_from_registered_or_received_not_after_testing(world, tech):
    a = register(world, tech)
    cancel_sample(actor=tech, sample=a, reason="Nhập nhầm")
    assert a.status == SampleStatus.CANCELLED and a.cancel_reason == "Nhập nhầm"
    b = register(world, tech)
    receive_sample(actor=tech, sample=b, condition="a", storage_location="b")
    with pytest.raises(IntakeError) as exc:
        cancel_sample(actor=tech, sample=b, reason="")
    assert exc.value.field == "reason"
    cancel_sample(actor=tech, sample=b, reason="Khách hàng rút mẫu")
    c = register(world, tech)
    c.status = SampleStatus.IN_TESTING
    with pytest.raises(IntakeError):
        cancel_sample(actor=tech, sample=c, reason="x")
    d = register(world, tech)
    d.tests[0].status = TestStatus.ENTERED
    with pytest.raises(IntakeError):
        cancel_sample(actor=tech, sample=d, reason="x")
    with pytest.raises(IntakeError):
        cancel_sample(actor=tech, sample=a, reason="again")


def test_add_and_remove_tests_before_testing(world, tech):
    sample = register(world, tech)
    third = world["parameter_ids"][2]
    test = add_test(actor=tech, sample=sample, parameter_id=third)
    assert test.position == 3 and len(sample.tests) == 3
    with pytest.raises(IntakeError) as exc:
        add_test(actor=tech, sample=sample, parameter_id=third)
    assert exc.value.field == "parameter_id"
    with pytest.raises(IntakeError):
        add_test(actor=tech, sample=sample, parameter_id=9999)
    first = sample.tests[0]
    remove_test(actor=tech, sample=sample, test_id=first.id)
    db.session.commit()
    assert [t.parameter_id for t in sample.tests] == world["parameter_ids"][1:]
    actions = [e.action for e in list_events(entity_type="sample", entity_id=str(sample.id))]
    assert actions[:2] == ["sample.test_remove", "sample.test_add"]
    with pytest.raises(IntakeError):
        remove_test(actor=tech, sample=sample, test_id=first.id)
    with pytest.raises(PermissionDenied):
        add_test(actor=user("reviewer"), sample=sample, parameter_id=first.parameter_id)
    sample.tests[0].status = TestStatus.ENTERED
    with pytest.raises(IntakeError):
        remove_test(actor=tech, sample=sample, test_id=sample.tests[1].id)
    with pytest.raises(IntakeError):
        add_test(actor=tech, sample=sample, parameter_id=first.parameter_id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SampleTest)) == 2


def test_timeline_is_the_audit_chain_of_the_sample(world, tech):
    from lims.audit import verify_chain

    sample = register(world, tech)
    receive_sample(actor=tech, sample=sample, condition="Tốt", storage_location="Tủ 1")
    cancel_sample(actor=tech, sample=sample, reason="Hỏng")
    db.session.commit()
    events = list_events(entity_type="sample", entity_id=str(sample.id))
    assert [e.action for e in reversed(events)] == [
        "sample.register",
        "sample.receive",
        "sample.cancel",
    ]
    assert verify_chain().ok


# --- campaigns ---------------------------------------------------------------------------


def test_campaign_create_update_close(world, tech):
    from datetime import date

    c = create_campaign(
        actor=tech,
        name="Khảo sát xăng dầu Cam Ranh",
        plan_ref="QĐ 45",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 12, 15),
        districts=["Cam Ranh", "Cam Lâm", "Cam Ranh", " "],
        lead_agency="Chi cục TĐC",
        team="Hà, Minh",
        notes="",
    )
    assert c.districts == ["Cam Ranh", "Cam Lâm"]
    update_campaign(actor=tech, campaign=c, name="Khảo sát xăng dầu", districts=[])
    with pytest.raises(IntakeError) as exc:
        update_campaign(actor=tech, campaign=c, name="")
    assert exc.value.field == "name"
    with pytest.raises(IntakeError) as exc:
        update_campaign(
            actor=tech,
            campaign=c,
            name="x",
            period_start=date(2026, 12, 2),
            period_end=date(2026, 12, 1),
        )
    assert exc.value.field == "period_end"
    with pytest.raises(IntakeError) as exc:
        close_campaign(actor=tech, campaign=c, reason="")
    assert exc.value.field == "reason"
    close_campaign(actor=tech, campaign=c, reason="Đã đủ mẫu")
    assert c.closed_at is not None
    with pytest.raises(IntakeError):
        close_campaign(actor=tech, campaign=c, reason="again")
    with pytest.raises(IntakeError):
        update_campaign(actor=tech, campaign=c, name="x")
    with pytest.raises(PermissionDenied):
        create_campaign(actor=user("agency"), name="x")
    actions = [
        e.action
        for e in db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == "campaign", AuditEvent.entity_id == str(c.id))
            .order_by(AuditEvent.seq)
        )
    ]
    assert actions == ["campaign.create", "campaign.update", "campaign.close"]


# --- businesses ----------------------------------------------------------------------------


def test_business_duplicates_by_tax_code_or_name_and_address(world, tech):
    with pytest.raises(DuplicateBusiness) as exc:
        create_business(actor=tech, name="Khác hẳn", kind="shop", tax_code="4200123454")
    assert [b.id for b in exc.value.matches] == [world["business_id"]]
    with pytest.raises(DuplicateBusiness):
        create_business(
            actor=tech, name="CUA HANG TAP HOA BA NAM", kind="shop", address="ki ốt 12 chợ đầm"
        )
    # same name, other address: not a duplicate
    other = create_business(
        actor=tech, name="Cửa hàng Tạp hóa Bà Năm", kind="shop", address="Chợ Xóm Mới"
    )
    # forced on purpose
    create_business(
        actor=tech,
        name="Cửa hàng tạp hóa Bà Năm",
        kind="shop",
        address="Ki-ốt 12, Chợ Đầm",
        allow_duplicate=True,
    )
    # editing a business is not a duplicate of itself
    update_business(
        actor=tech,
        business=other,
        name=other.name,
        kind="shop",
        address="Chợ Xóm Mới",
        phone="0258 3822 123",
    )
    assert "0258 3822 123" in other.search_key


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"kind": "bank"}, "kind"),
        ({"tax_code": "12ab"}, "tax_code"),
        ({"tax_code": "123"}, "tax_code"),
        ({"tax_code": "4200123456"}, "tax_code"),  # a typo: the MST check digit is wrong
        ({"tax_code": "07909000123"}, "tax_code"),  # 11 digits: neither MST nor personal ID
        ({"phone": "1" * 41}, "phone"),
    ],
)
def test_business_field_errors(world, tech, kwargs, field):
    values = {"name": "Cây xăng số 5", "kind": "fuel_station", **kwargs}
    with pytest.raises(IntakeError) as exc:
        create_business(actor=tech, **values)
    assert exc.value.field == field


def test_business_search_is_accent_and_case_insensitive(world, tech):
    create_business(
        actor=tech,
        name="Cửa hàng xăng dầu Vĩnh Hải",
        kind="fuel_station",
        district="Nha Trang",
        tax_code="4200999883",
    )
    names = lambda q: [b.name for b in search_businesses(q)]  # noqa: E731
    assert names("ba nam") == ["Cửa hàng Tạp hóa Bà Năm"]
    assert names("XĂNG vinh") == ["Cửa hàng xăng dầu Vĩnh Hải"]
    assert names("420099") == ["Cửa hàng xăng dầu Vĩnh Hải"]
    assert len(names("cua hang")) == 2
    assert names("%") == [] and names("   ") == []


def test_tax_codes_are_checked_and_kept_in_one_form(world, tech):
    """Enterprise MST with its check digit, a branch written any way, and a household
    business's 12-digit personal identification number (since 1 July 2025)."""
    made = {
        typed: create_business(actor=tech, name=f"Cơ sở {n}", kind="shop",
                                        tax_code=typed, allow_duplicate=True).tax_code
        for n, typed in enumerate(["0100233488", "01.00.233.488 - 001", "079090001234"])
    }  # fmt: skip
    assert list(made.values()) == ["0100233488", "0100233488-001", "079090001234"]
    with pytest.raises(IntakeError) as exc:
        create_business(actor=tech, name="Sai", kind="shop", tax_code="0100233480")
    assert "Chữ số kiểm tra" in str(exc.value.message)  # the check digit, in Vietnamese
    # the same business typed another way is a duplicate
    found = find_duplicate_businesses(name="Khác", tax_code="0100233488-001")
    assert [b.tax_code for b in found] == ["0100233488-001"]
