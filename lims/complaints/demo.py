"""A realistic year of consumer complaints for ``lims demo``: about 300 cases over the last
twelve months, by hotline, web form, visits, letters, e-mail, the national switchboard and
agencies, about the goods the lab tests (fish sauce, water, fuel, LPG, helmets, toys, gold…),
most of the older ones closed — about three in four resolved successfully, approved by a second
association user — the recent ones still being handled, a few overdue; a handful ask for
testing, one of them linked to a demo sample that has a certificate.

Seeded in bulk (one flush of the rows, one ``record_many`` for the audit events), so it takes
well under a second. Deterministic (``random.Random(2022)``). The consumers are invented:
made-up names, phone numbers of the form 09xx and ``example.vn`` e-mail addresses.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from lims import audit
from lims.auth.models import User
from lims.auth.services import create_user
from lims.catalog.models import ProductCategory
from lims.certificates.models import Certificate, CertificateStatus
from lims.extensions import db, utcnow
from lims.i18n import LOCAL_TZ, local_time
from lims.intake.models import Business

from .models import (
    OPEN_STATUSES,
    Complaint,
    ComplaintChannel,
    ComplaintCounter,
    ComplaintStatus,
    ComplaintStep,
    ForwardTarget,
    SampleRequest,
    SampleRequestStatus,
    complaint_code,
)
from .schedule import due_for
from .services import complaint_search_key, new_tracking_key

COUNT = 300
HANDLER = "association@example.org"
SECOND = ("association2@example.org", "Võ Thị Thanh Tâm", "association2-demo-2026")
CHANNELS = [
    (ComplaintChannel.HOTLINE, 40),
    (ComplaintChannel.WEB_FORM, 22),
    (ComplaintChannel.WALK_IN, 10),
    (ComplaintChannel.SWITCHBOARD, 10),
    (ComplaintChannel.EMAIL, 8),
    (ComplaintChannel.LETTER, 5),
    (ComplaintChannel.AGENCY, 5),
]
# category code → (products with brands, what happened, what is asked)
TOPICS: dict[str, tuple[list[tuple[str, str]], list[str], list[str]]] = {
    "fish-sauce": (
        [
            ("Nước mắm cá cơm 40 độ đạm", "Hòn Khói"),
            ("Nước mắm nhĩ 35 độ đạm", "Vạn Phước"),
            ("Nước mắm pha 10 độ đạm", "Biển Xanh"),
        ],
        [
            "Nước mắm có mùi lạ, vị chát, màu sẫm bất thường sau khi mở nắp.",
            "Độ đạm ghi trên nhãn 40 độ nhưng nếm rất nhạt, nghi pha loãng.",
            "Chai nước mắm có cặn và váng trắng dù còn hạn sử dụng.",
        ],
        ["Đổi sản phẩm khác", "Hoàn tiền và kiểm tra chất lượng lô hàng"],
    ),
    "bottled-water": (
        [("Nước uống đóng chai 500 ml", "Suối Tiên"), ("Nước đóng bình 20 lít", "Aqua Nha Trang")],
        [
            "Bình nước có cặn lơ lửng và mùi rong rêu.",
            "Uống xong bị đau bụng, nghi nước không đảm bảo vệ sinh.",
        ],
        ["Kiểm tra chất lượng nước của cơ sở", "Đổi bình nước và bồi thường"],
    ),
    "gasoline": (
        [("Xăng RON95-III", ""), ("Xăng E5 RON92-II", "")],
        [
            "Đổ xăng xong xe chết máy, thợ sửa xe nói xăng có lẫn nước.",
            "Bơm 100.000 đồng nhưng lượng xăng ít hơn bình thường, nghi bơm thiếu.",
        ],
        ["Kiểm tra chất lượng và đo lường cột bơm", "Bồi thường chi phí sửa xe"],
    ),
    "lpg": (
        [("Bình gas 12 kg", "Petrolimex"), ("Bình gas mini 2 kg", "Saigon Petro")],
        [
            "Bình gas dùng nhanh hết bất thường, nghi nạp thiếu khối lượng.",
            "Van bình gas bị rò rỉ khi mới lắp.",
        ],
        ["Đổi bình gas", "Kiểm tra khối lượng nạp của đại lý"],
    ),
    "helmets": (
        [("Mũ bảo hiểm nửa đầu", "Protec"), ("Mũ bảo hiểm trẻ em", "Asia")],
        [
            "Mũ không có dấu hợp quy CR, vỏ mỏng, xốp bên trong bị vỡ.",
            "Quai mũ bị đứt sau hai tuần sử dụng.",
        ],
        ["Hoàn tiền", "Cảnh báo người tiêu dùng khác"],
    ),
    "toys": (
        [("Đồ chơi xếp hình nhựa", "Bé Vui"), ("Búp bê vải", "")],
        [
            "Đồ chơi có cạnh sắc làm trẻ bị trầy tay; nhãn không có tiếng Việt.",
            "Đồ chơi có mùi hóa chất nồng.",
        ],
        ["Thu hồi sản phẩm", "Kiểm tra chất lượng đồ chơi"],
    ),
    "gold-jewellery": (
        [("Nhẫn vàng 18K", ""), ("Dây chuyền vàng 24K", "")],
        [
            "Bán lại nhẫn thì tiệm khác báo tuổi vàng thấp hơn hóa đơn.",
            "Khối lượng dây chuyền cân lại thiếu so với hóa đơn.",
        ],
        ["Kiểm định tuổi vàng", "Bồi thường phần chênh lệch"],
    ),
}
GENERIC = (
    [("Hàng tiêu dùng", "")],
    ["Sản phẩm hết hạn sử dụng vẫn bày bán.", "Sản phẩm không có nhãn phụ tiếng Việt."],
    ["Đổi sản phẩm", "Hoàn tiền"],
)
ONLINE_SHOPS = [
    "Shop Đặc Sản Biển Nha Trang (sàn TMĐT)",
    "Cửa hàng online Mẹ Bắp",
    "Trang bán hàng Gia Dụng Xanh (mạng xã hội)",
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Quốc", "Thanh", "Hữu", "Thu", "Hoài"]
GIVEN = [
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Giang",
    "Hạnh",
    "Khoa",
    "Lan",
    "Mai",
    "Nam",
    "Oanh",
    "Phúc",
    "Quyên",
    "Sơn",
    "Tâm",
    "Uyên",
    "Vy",
    "Xuân",
    "Yến",
]
STREETS = [
    "Trần Phú",
    "Lê Thánh Tôn",
    "Nguyễn Thị Minh Khai",
    "Hùng Vương",
    "Đường 2/4",
    "Lê Hồng Phong",
    "Phạm Văn Đồng",
]
AGENCIES = [
    "Sở Công Thương tỉnh Khánh Hòa",
    "Chi cục Quản lý thị trường tỉnh Khánh Hòa",
    "Sở Khoa học và Công nghệ tỉnh Khánh Hòa",
]
KINDS = {
    "fish-sauce": ("market_stall", "producer", "supermarket", "online"),
    "bottled-water": ("shop", "supermarket"),
    "gasoline": ("fuel_station",),
    "lpg": ("shop",),
    "helmets": ("shop",),
    "toys": ("shop", "online"),
    "gold-jewellery": ("shop",),
}


def _second() -> User:
    email, name, password = SECOND
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = create_user(
            actor=None, email=email, name=name, roles=["association"], password=password
        )
    return user


class _Case:
    """One complaint and its steps, built in memory, flushed in bulk."""

    def __init__(self, c: Complaint) -> None:
        self.c = c
        self.steps: list[ComplaintStep] = []
        self.at = c.received_at

    def step(
        self,
        action: str,
        to: ComplaintStatus,
        actor: User | None,
        gap_days: float,
        note: str = "",
        public: str = "",
    ) -> None:
        self.at = self.at + timedelta(days=gap_days, hours=2)
        previous = self.c.status
        self.c.status = to
        self.c.due_on = due_for(to, self.at, self.c.forwarded_to)
        self.steps.append(
            ComplaintStep(
                at=self.at,
                actor_id=actor.id if actor else None,
                action=action,
                from_status=previous.value,
                to_status=to.value,
                note=note,
                public_note=public,
                due_on=self.c.due_on,
            )
        )
        self.c.updated_at = self.at


def seed() -> None:
    if db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)):
        return
    a = db.session.scalar(sa.select(User).where(User.email == HANDLER))
    if a is None:
        return
    b = _second()
    rng = random.Random(2022)
    codes = {c.code: c for c in db.session.scalars(sa.select(ProductCategory))}
    businesses = list(db.session.scalars(sa.select(Business).order_by(Business.id)))
    now = utcnow()
    today = local_time(now).date()
    starts = sorted(
        datetime.combine(
            today - timedelta(days=rng.randrange(1, 365)),
            time(rng.randrange(7, 17), rng.randrange(60)),
            LOCAL_TZ,
        )
        for _ in range(COUNT)
    )
    seqs: dict[int, int] = {}
    cases: list[_Case] = []
    for received in starts:
        cases.append(_case(rng, received, a, b, codes, businesses, seqs, now))
    for year, last in seqs.items():
        db.session.add(ComplaintCounter(year=year, last_seq=last))
    db.session.add_all([case.c for case in cases])
    db.session.flush()
    for case in cases:
        for step in case.steps:
            step.complaint_id = case.c.id
        db.session.add_all(case.steps)
    _sample_requests(rng, cases, a)
    db.session.flush()
    audit.record_many(
        actor=None,
        events=[
            {
                "action": "complaint.receive",
                "entity_type": "complaint",
                "entity_id": case.c.id,
                "after": {
                    "code": case.c.code,
                    "status": case.c.status.value,
                    "channel": case.c.channel.value,
                    "steps": len(case.steps),
                },
                "reason": "Dữ liệu minh họa (lims demo)",
            }
            for case in cases
        ],
    )


def _case(
    rng: random.Random,
    received: datetime,
    a: User,
    b: User,
    codes: dict[str, ProductCategory],
    businesses: list[Business],
    seqs: dict[int, int],
    now: datetime,
) -> _Case:
    code = rng.choice([*TOPICS, "fish-sauce", "fish-sauce", "bottled-water", "gasoline", "other"])
    products, stories, asks = TOPICS.get(code, GENERIC)
    product, brand = rng.choice(products)
    category = codes.get(code)
    kinds = KINDS.get(code, ("shop", "market_stall"))
    pool = [x for x in businesses if x.kind.value in kinds]
    channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
    year = received.year
    seqs[year] = seqs.get(year, 0) + 1
    name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    c = Complaint(
        code=complaint_code(year, seqs[year]),
        code_year=year,
        code_seq=seqs[year],
        tracking_key=new_tracking_key(),
        channel=channel,
        status=ComplaintStatus.RECEIVED,
        received_at=received,
        incident_date=(received - timedelta(days=rng.randrange(0, 10))).date(),
        consumer_name=name,
        consumer_phone=f"09{rng.randrange(10, 99)} {rng.randrange(100, 999)} "
        f"{rng.randrange(100, 999)}",
        consumer_email=f"ntd{rng.randrange(1000, 9999)}@example.vn" if rng.random() < 0.3 else "",
        consumer_address=f"{rng.randrange(1, 300)} {rng.choice(STREETS)}, Nha Trang"
        if rng.random() < 0.6
        else "",
        consent_at=received if channel == ComplaintChannel.WEB_FORM else None,
        product_name=product,
        brand=brand,
        batch=f"L{rng.randrange(1, 99):02d}/{year % 100}" if rng.random() < 0.5 else "",
        category_id=category.id if category else None,
        description=rng.choice(stories),
        consumer_request=rng.choice(asks),
        handler_id=None if channel == ComplaintChannel.WEB_FORM else a.id,
        created_by_id=None if channel == ComplaintChannel.WEB_FORM else a.id,
        due_on=due_for(ComplaintStatus.RECEIVED, received),
        updated_at=received,
    )
    if pool and rng.random() < 0.75:
        shop = rng.choice(pool)
        c.business_id, c.business_name, c.business_kind = shop.id, shop.name, shop.kind.value
        c.business_address = ", ".join(x for x in (shop.address, shop.ward, shop.district) if x)
    else:
        c.business_name, c.business_kind = rng.choice(ONLINE_SHOPS), "online"
    c.search_key = complaint_search_key(c)
    case = _Case(c)
    case.steps.append(
        ComplaintStep(
            at=received,
            actor_id=c.created_by_id,
            action="receive",
            to_status="received",
            due_on=c.due_on,
        )
    )
    _handle(rng, case, a, b, age_days=(now - received).days)
    return case


def _handle(rng: random.Random, case: _Case, a: User, b: User, age_days: int) -> None:
    """Move a case as far as its age allows: the older, the more likely closed."""
    c = case.c
    if c.handler_id is None and age_days > 0:
        c.handler_id = a.id
    if age_days < 3 and rng.random() < 0.7:
        return  # still waiting to be accepted (a few of them overdue)
    if rng.random() < 0.07:
        case.step(
            "out_of_scope",
            ComplaintStatus.OUT_OF_SCOPE,
            a,
            1,
            note="Tranh chấp hợp đồng giữa hai doanh nghiệp, không phải giao dịch tiêu dùng.",
            public="Yêu cầu không thuộc phạm vi giải quyết của Hội; đã hướng dẫn liên hệ "
            "cơ quan có thẩm quyền.",
        )
        return _close(case, a, "Không thuộc phạm vi (Điều 58 Luật BVQLNTD 2023)")
    case.step(
        "accept",
        ComplaintStatus.ADVISING,
        a,
        rng.uniform(0.1, 2),
        note="Đã tư vấn quyền và cách thức giải quyết cho người tiêu dùng.",
        public="Hội đã tiếp nhận và tư vấn cho bạn.",
    )
    c.advised_at = case.at
    if age_days < 8:
        return
    if rng.random() < 0.8:
        agency = rng.random() < 0.15
        c.forwarded_to = (ForwardTarget.AGENCY if agency else ForwardTarget.BUSINESS).value
        c.forwarded_recipient = rng.choice(AGENCIES) if agency else c.business_name
        case.step(
            "forward",
            ComplaintStatus.FORWARDED,
            a,
            rng.uniform(0.5, 3),
            note=f"Gửi văn bản đề nghị đến {c.forwarded_recipient}.",
            public="Khiếu nại đã được chuyển đến nơi có trách nhiệm giải quyết.",
        )
    if age_days < 20:
        return
    if rng.random() < 0.3:
        case.step(
            "mediate",
            ComplaintStatus.MEDIATING,
            a,
            rng.uniform(5, 9),
            note="Cơ sở chưa phản hồi trong 07 ngày làm việc; Hội mời hai bên thương lượng.",
        )
    if age_days < 35 and rng.random() < 0.6:
        return  # still open, some of them past their deadline
    roll = rng.random()
    if roll < 0.80:
        case.steps.append(
            ComplaintStep(
                at=case.at + timedelta(days=rng.uniform(2, 10)),
                actor_id=a.id,
                action="propose",
                from_status=c.status.value,
                to_status=c.status.value,
                note="Cơ sở đã đổi sản phẩm / hoàn tiền cho người tiêu dùng.",
            )
        )
        case.at = case.steps[-1].at
        case.step(
            "resolve",
            ComplaintStatus.RESOLVED,
            b,
            rng.uniform(0.1, 2),
            public="Vụ việc đã được giải quyết thành công.",
        )
        c.approved_by_id = b.id
        return _close(case, b, "")
    if roll < 0.92:
        case.step(
            "unresolved",
            ComplaintStatus.UNRESOLVED,
            a,
            rng.uniform(5, 20),
            note="Cơ sở không chấp nhận yêu cầu; đã hướng dẫn người tiêu dùng khởi kiện.",
            public="Thương lượng không thành; Hội đã hướng dẫn các bước tiếp theo.",
        )
        return _close(case, a, "Thương lượng, hòa giải không thành")
    case.step(
        "withdraw",
        ComplaintStatus.WITHDRAWN,
        a,
        rng.uniform(1, 10),
        note="Người tiêu dùng báo đã tự thỏa thuận được với cơ sở.",
    )
    return _close(case, a, "Người tiêu dùng rút yêu cầu")


def _close(case: _Case, actor: User, reason: str) -> None:
    c = case.c
    c.closed_at, c.closed_by_id, c.close_reason, c.due_on = case.at, actor.id, reason, None


def _sample_requests(rng: random.Random, cases: list[_Case], a: User) -> None:
    """A few open fish-sauce cases ask for testing; the first is linked to a demo sample
    with a valid certificate (as if the lab had registered it for the complaint)."""
    candidates = [x.c for x in cases if x.c.status in OPEN_STATUSES[1:] and x.c.category_id]
    cert = db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.status == CertificateStatus.VALID)
        .order_by(Certificate.id)
        .limit(1)
    )
    for n, c in enumerate(candidates[:5]):
        request = SampleRequest(
            complaint_id=c.id,
            product_name=c.product_name,
            brand=c.brand,
            batch=c.batch,
            business_id=c.business_id,
            category_id=c.category_id,
            reason="Thử nghiệm các chỉ tiêu chất lượng liên quan đến nội dung khiếu nại.",
            requested_by_id=a.id,
            requested_at=c.updated_at,
            status=SampleRequestStatus.REQUESTED,
        )
        if n == 0 and cert is not None:
            request.status, request.sample_id = SampleRequestStatus.REGISTERED, cert.sample_id
            request.registered_at = request.requested_at + timedelta(days=1)
        db.session.add(request)
        db.session.add(
            ComplaintStep(
                complaint_id=c.id,
                at=c.updated_at,
                actor_id=a.id,
                action="request_testing",
                from_status=c.status.value,
                to_status=c.status.value,
                note=request.reason,
            )
        )
