"""Migration 0013_methods: every parameter's method cell becomes catalogue methods, the
parameter's own decimals, LOD, LOQ, uncertainty, accreditation and subcontractor move to its
default method without loss, existing results record that method, and the downgrade puts the
values back."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lims import create_app
from lims.extensions import db
from tests.conftest import PG_URL, base_config, reset_postgresql


def _insert(conn: sa.Connection, table: str, **values: object) -> int:
    cols = ", ".join(values)
    binds = ", ".join(f":{k}" for k in values)
    return conn.execute(
        sa.text(f"INSERT INTO {table} ({cols}) VALUES ({binds}) RETURNING id"), values
    ).scalar_one()


def _old_world(conn: sa.Connection) -> dict[str, int]:
    """Parameters and a result as they were at revision 0011 (values on the parameter)."""
    now = "2026-01-05 03:00:00+00:00"
    common = dict(
        name_en="",
        plausible_min=None,
        plausible_max=None,
        instrument_kind=None,
        formula=None,
        active=True,
        created_at=now,
        result_type="numeric",
        uncertainty_value=None,
        uncertainty_ranges=None,
    )
    sulfur = _insert(
        conn,
        "parameters",
        code="sulfur",
        name_vi="Lưu huỳnh",
        unit="mg/kg",
        method_ref="TCVN 6701 (ASTM D2622); TCVN 7760 (ASTM D5453)",
        decimals=1,
        lod=float("1"),
        loq=float("3"),
        uncertainty_kind="absolute",
        accredited=True,
        subcontracted=False,
        subcontractor="",
        **(common | {"uncertainty_value": float("2.5")}),
    )
    lead = _insert(
        conn,
        "parameters",
        code="lead",
        name_vi="Chì",
        unit="mg/kg",
        method_ref="",
        decimals=3,
        lod=float("0.005"),
        loq=None,
        uncertainty_kind="none",
        accredited=False,
        subcontracted=True,
        subcontractor="Viện Pasteur Nha Trang",
        **common,
    )
    note = _insert(
        conn,
        "parameters",
        code="textile",
        name_vi="Formaldehyt",
        unit="mg/kg",
        method_ref="TCVN 7421-1 (ISO 14184-1) [method unverified]",
        decimals=None,
        lod=None,
        loq=None,
        uncertainty_kind="none",
        accredited=False,
        subcontracted=False,
        subcontractor="",
        **common,
    )
    corrosion = _insert(
        conn,
        "parameters",
        code="cu",
        name_vi="Ăn mòn tấm đồng",
        unit="class",
        method_ref="TCVN 8359:2010 (ASTM D1838)",
        decimals=None,
        lod=None,
        loq=None,
        uncertainty_kind="none",
        accredited=False,
        subcontracted=False,
        subcontractor="",
        **common,
    )
    user = _insert(
        conn,
        "users",
        email="t@lab.vn",
        name="T",
        password_hash="!",
        active=True,
        locale="vi",
        session_version=1,
        created_at=now,
    )
    cat = _insert(
        conn, "product_categories", code="x", name_vi="X", name_en="", active=True, created_at=now
    )
    campaign = _insert(
        conn,
        "campaigns",
        name="C",
        plan_ref="",
        districts="[]",
        lead_agency="",
        team="",
        notes="",
        status="open",
        created_at=now,
    )
    sample = _insert(
        conn,
        "samples",
        code="KH-26-000001",
        code_year=2026,
        code_seq=1,
        campaign_id=campaign,
        category_id=cat,
        status="in_testing",
        product_name="Xăng",
        brand="",
        manufacturer="",
        origin="",
        batch="",
        declared_standard="",
        quantity_unit="",
        packaging="",
        seal_number="",
        receipt_number="",
        sampled_at=now,
        sampled_by="",
        remarks="",
        condition_on_receipt="",
        storage_location="",
        rejection_reason="",
        cancel_reason="",
        created_at=now,
        search_key="",
    )
    tests = {}
    for key, pid in (("sulfur", sulfur), ("lead", lead)):
        tests[key] = _insert(
            conn,
            "sample_tests",
            sample_id=sample,
            parameter_id=pid,
            position=0,
            status="entered",
            created_at=now,
        )
    for key in ("sulfur", "lead"):
        _insert(
            conn,
            "results",
            test_id=tests[key],
            text_entered="12,3",
            value=float("12.3"),
            verdict="pass",
            verdict_reason_vi="",
            verdict_reason_en="",
            entered_by_id=user,
            entered_at=now,
            retract_reason="",
            version=1,
        )
    return {"sulfur": sulfur, "lead": lead, "textile": note, "cu": corrosion}


def _n(row: tuple) -> tuple:
    """Numbers compared by value (SQLite returns untyped numerics as floats)."""
    return tuple(Decimal(str(v)).normalize() if isinstance(v, float | Decimal) else v for v in row)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("PostgreSQL not configured (set LIMS_TEST_DATABASE_URL)")
        reset_postgresql(PG_URL)
        yield PG_URL
        # give the session's database back as the other tests expect it: empty, migrated
        reset_postgresql(PG_URL)
        from flask_migrate import upgrade

        app = create_app(base_config(PG_URL))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        return
    yield f"sqlite:///{tmp_path / 'm.sqlite3'}"


def test_parameter_values_move_to_methods_and_back(db_url):
    from flask_migrate import downgrade, upgrade

    app = create_app(base_config(db_url))
    with app.app_context():
        upgrade(revision="0011_report_indexes")
        with db.engine.begin() as conn:
            ids = _old_world(conn)
        upgrade(revision="0013_methods")
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT pm.parameter_id, m.standard_ref, m.note, pm.position, pm.decimals, "
                    "pm.lod, pm.loq, pm.uncertainty_kind, pm.uncertainty_value, pm.accredited, "
                    "pm.subcontractor FROM parameter_methods pm JOIN methods m ON m.id = "
                    "pm.method_id ORDER BY pm.parameter_id, pm.position"
                )
            ).all()
            by_param: dict[int, list] = {}
            for row in rows:
                by_param.setdefault(row[0], []).append(_n(row[1:]))
            sulfur = by_param[ids["sulfur"]]
            # two alternatives: the default carries the old values, the other starts blank
            assert [r[0] for r in sulfur] == ["TCVN 6701 (ASTM D2622)", "TCVN 7760 (ASTM D5453)"]
            assert sulfur[0][3:] == (
                1,
                Decimal("1"),
                Decimal("3"),
                "absolute",
                Decimal("2.5"),
                True,
                "",
            )
            assert sulfur[1][3:] == (None, None, None, "none", None, False, "")
            # no method cell but values and results: an unnamed method keeps them
            (lead,) = by_param[ids["lead"]]
            assert lead[0] == "" and "migration 0013" in lead[1]
            assert lead[3:6] == (3, Decimal("0.005").normalize(), None)
            assert lead[9] == "Viện Pasteur Nha Trang"
            # a remark of the source stays a staff note, never the printed reference
            (textile,) = by_param[ids["textile"]]
            assert textile[0] == "TCVN 7421-1 (ISO 14184-1)" and textile[1] == "method unverified"
            linked = conn.execute(
                sa.text(
                    "SELECT st.parameter_id, r.decimals, r.lod, r.loq, m.standard_ref "
                    "FROM results r "
                    "JOIN sample_tests st ON st.id = r.test_id JOIN parameter_methods pm ON "
                    "pm.id = r.parameter_method_id JOIN methods m ON m.id = pm.method_id "
                    "ORDER BY st.parameter_id"
                )
            ).all()
            assert [_n(r) for r in linked] == [
                (ids["sulfur"], 1, Decimal("1"), Decimal("3"), "TCVN 6701 (ASTM D2622)"),
                (ids["lead"], 3, Decimal("0.005").normalize(), None, ""),
            ]
            assert (
                conn.execute(
                    sa.text("SELECT result_type FROM parameters WHERE id = :i"), {"i": ids["cu"]}
                ).scalar_one()
                == "class"
            )
            cols = {c["name"] for c in sa.inspect(conn).get_columns("parameters")}
            assert not cols & {"lod", "loq", "decimals", "accredited", "subcontractor"}
        downgrade(revision="0011_report_indexes")
        with db.engine.connect() as conn:
            back = conn.execute(
                sa.text(
                    "SELECT code, decimals, lod, loq, uncertainty_kind, uncertainty_value, "
                    "accredited, subcontracted, subcontractor, result_type FROM parameters "
                    "ORDER BY id"
                )
            ).all()
        back = [_n(r) for r in back]
        assert back[0][:-1] == (
            "sulfur",
            1,
            Decimal("1"),
            Decimal("3"),
            "absolute",
            Decimal("2.5"),
            True,
            False,
            "",
        )
        assert back[1][:3] == ("lead", 3, Decimal("0.005").normalize())
        assert back[1][7:9] == (True, "Viện Pasteur Nha Trang")
        assert back[3][-1] == "numeric"
        db.engine.dispose()
