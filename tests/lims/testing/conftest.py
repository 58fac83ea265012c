"""Builders for results tests: a category, parameters, specifications and received samples."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from lims.auth.models import User
from lims.catalog.models import (
    LimitKind,
    Method,
    Parameter,
    ParameterMethod,
    ProductCategory,
    ResultType,
    Specification,
)
from lims.extensions import db
from lims.intake.models import (
    Business,
    BusinessKind,
    Campaign,
    Sample,
    SampleStatus,
    SampleTest,
)


@pytest.fixture
def lab(app_ctx, make_user) -> Any:
    return build_lab(make_user)


def build_lab(make_user: Callable[..., Any]) -> Any:
    """Users and a small catalogue: fish sauce with pH (two-sided), histamine (upper),
    total nitrogen by formula, formaldehyde (not detected) and net quantity."""
    # Users first: each is committed in its own session (SQLite allows one writer at a time).
    refs = [
        make_user(role, email=f"{name}@lab.vn")
        for role, name in (
            ("technician", "tech"),
            ("technician", "tech2"),
            ("reviewer", "rev"),
            ("reviewer", "rev2"),
            ("association", "assoc"),
        )
    ]
    tech, tech2, reviewer, reviewer2 = (db.session.get(User, r.id) for r in refs[:4])
    category = ProductCategory(code="nuoc-mam", name_vi="Nước mắm", name_en="Fish sauce")
    db.session.add(category)
    db.session.flush()
    params = {
        "ph": Parameter(code="ph", name_vi="pH", name_en="pH", unit="-"),
        "histamine": Parameter(
            code="histamine", name_vi="Histamin", name_en="Histamine", unit="mg/kg"
        ),
        "nitrogen": Parameter(
            code="n-total",
            name_vi="Đạm tổng số",
            name_en="Total nitrogen",
            unit="g/L",
            formula="(v1 - v0) * 0.14 * f / m",
        ),
        "formol": Parameter(
            code="formol",
            name_vi="Formaldehyt",
            name_en="Formaldehyde",
            unit="",
            result_type=ResultType.QUALITATIVE,
        ),
        "net": Parameter(
            code="net",
            name_vi="Định lượng",
            name_en="Net quantity",
            unit="mL",
            result_type=ResultType.NET_QUANTITY,
            instrument_kind="balance",
        ),
        "note": Parameter(
            code="colour", name_vi="Màu sắc", name_en="Colour", unit="", result_type=ResultType.TEXT
        ),
    }
    db.session.add_all(params.values())
    db.session.flush()
    # One method each, with what it gives (decimals, LOD, LOQ, U): parameter × method.
    method_facts: dict[str, tuple[str, dict[str, Any]]] = {
        "ph": ("AOAC 981.12", {"decimals": 2}),
        "histamine": (
            "AOAC 977.13",
            {
                "decimals": 0,
                "lod": Decimal("5"),
                "loq": Decimal("10"),
                "uncertainty_kind": "absolute",
                "uncertainty_value": Decimal("20"),
            },
        ),
        "nitrogen": ("TCVN 3705:1990", {"decimals": 1}),
        "formol": ("TCVN 8894:2012", {"lod": Decimal("0.5")}),
        "net": ("OIML R 87:2016", {}),
        "note": ("TCVN 5107:2018 mục 4.2", {}),
    }
    for key, (ref, facts) in method_facts.items():
        method = Method(code=f"m-{key}", standard_ref=ref)
        db.session.add(method)
        db.session.flush()
        db.session.add(ParameterMethod(parameter_id=params[key].id, method_id=method.id, **facts))
    db.session.flush()

    def spec(param: str, **kw: Any) -> Specification:
        kw.setdefault("regulation", "TCVN 5107:2018")
        s = Specification(
            series=f"s-{param}",
            version=1,
            category_id=category.id,
            parameter_id=params[param].id,
            confirmed=True,
            confirmed_by_id=reviewer.id,  # a named reviewer confirmed it
            **kw,
        )
        db.session.add(s)
        return s

    spec(
        "ph",
        kind=LimitKind.NUMERIC,
        lower=Decimal("5.0"),
        lower_text="5.0",
        upper=Decimal("6.5"),
        upper_text="6.5",
    )
    spec(
        "histamine",
        kind=LimitKind.NUMERIC,
        upper=Decimal("400"),
        upper_text="400",
        regulation="EU Reg 2073/2005",
    )
    spec("nitrogen", kind=LimitKind.NUMERIC, lower=Decimal("10"), lower_text="10")
    spec("formol", kind=LimitKind.NOT_DETECTED, regulation="Thông tư 24/2019/TT-BYT")
    campaign = Campaign(name="Khảo sát nước mắm Chợ Đầm 2026", districts=["Nha Trang"])
    business = Business(
        name="Sạp cô Lan",
        kind=BusinessKind.MARKET_STALL,
        address="Chợ Đầm",
        district="Nha Trang",
        search_key="sap co lan cho dam",
    )
    db.session.add_all([campaign, business])
    db.session.commit()
    return type(
        "Lab",
        (),
        {
            "tech": tech,
            "tech2": tech2,
            "reviewer": reviewer,
            "reviewer2": reviewer2,
            "category": category,
            "params": params,
            "campaign": campaign,
            "business": business,
        },
    )()


@pytest.fixture
def make_sample(lab) -> Callable[..., Sample]:
    return sample_builder(lab)


def sample_builder(lab: Any) -> Callable[..., Sample]:
    counter = {"n": 0}
    campaign_id, business_id, category_id = lab.campaign.id, lab.business.id, lab.category.id
    param_ids = {k: p.id for k, p in lab.params.items()}

    def build(*param_keys: str, status: SampleStatus = SampleStatus.RECEIVED) -> Sample:
        counter["n"] += 1
        n = counter["n"]
        sample = Sample(
            code=f"KH-26-{n:06d}",
            code_year=2026,
            code_seq=n,
            campaign_id=campaign_id,
            business_id=business_id,
            category_id=category_id,
            status=status,
            product_name="Nước mắm cá cơm Khánh Hòa",
            brand="Hòn Khói",
            batch=f"L{n}",
            sampled_at=datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
            search_key=f"kh-26-{n:06d} nuoc mam ca com",
        )
        db.session.add(sample)
        db.session.flush()
        for pos, key in enumerate(param_keys or ("ph", "histamine")):
            db.session.add(
                SampleTest(
                    sample_id=sample.id,
                    parameter_id=param_ids[key] if key in param_ids else lab.params[key].id,
                    position=pos,
                )
            )
        db.session.commit()
        db.session.refresh(sample)
        return sample

    return build


@pytest.fixture
def web_lab(app, make_user) -> Any:
    """For page tests: the same world, built in an app context that is closed again, so the
    test client's requests run in their own contexts (Flask reuses an active app context, and
    with it ``g`` and the signed-in user). ``web_lab.sample(*params)`` returns (code, test ids
    by parameter code); ``web_lab.ids`` holds the user and parameter ids."""
    with app.app_context():
        lab = build_lab(make_user)
        ids = {
            "params": {k: p.id for k, p in lab.params.items()},
            "tech": lab.tech.id,
            "reviewer": lab.reviewer.id,
        }
        builder = sample_builder(lab)
        db.session.commit()

    def sample(*params: str, **kw: Any) -> tuple[str, dict[str, int]]:
        with app.app_context():
            built = builder(*params, **kw)
            out = built.code, {t.parameter.code: t.id for t in built.tests}
            db.session.commit()
            return out

    return type("WebLab", (), {"ids": ids, "sample": staticmethod(sample)})()
