"""Sample list and search at 10k / 100k / 1M samples, and survey-sheet import throughput.

Fills a fresh database (SQLite in a temporary directory; PostgreSQL too when
``LIMS_BENCH_DATABASE_URL`` is set — its public schema is dropped and rebuilt) with N samples by
Core ``executemany`` of prepared rows (realistic spreads over campaigns, categories,
businesses, districts and statuses), then times the sample list the way the page asks for it
(:func:`lims.intake.listing.fetch_page`: the page query plus its three small look-ups, and
:func:`~lims.intake.listing.fetch_rows`, the same as plain rows) and the
whole page through the test client. Import: a 10,000-row CSV through
:func:`lims.intake.importing.import_sheet` (check every row, then ``register_samples``, commit).

    python -m benchmarks samples -- --sizes 10000,100000,1000000
    python benchmarks/bench_samples.py --sizes 10000 --repeat 20 --no-write
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.common import fmt, machine, measured_line, summary, timed, write_section  # noqa: E402

SOURCE = "benchmarks/bench_samples.py"

DISTRICTS = [
    ("Nha Trang", 40),
    ("Cam Ranh", 12),
    ("Ninh Hòa", 12),
    ("Diên Khánh", 10),
    ("Vạn Ninh", 8),
    ("Cam Lâm", 8),
    ("Khánh Vĩnh", 5),
    ("Khánh Sơn", 3),
]
MARKETS = ["Chợ Đầm", "Chợ Xóm Mới", "Chợ Vĩnh Hải", "Chợ Cam Ranh", "Chợ Ninh Hòa", "Chợ Thành"]
PEOPLE = ["Bà Năm", "Cô Hoa", "Anh Tuấn", "Chị Lan", "Ông Sáu", "Bà Tư", "Chị Mai", "Anh Dũng"]
# category code, vi name, parent code, products, brands, weight
CATEGORIES: list[tuple[str, str, str | None, list[str], list[str], int]] = [
    ("food", "Thực phẩm", None, [], [], 0),
    ("fish-sauce", "Nước mắm", "food",
     ["Nước mắm cá cơm 40 độ đạm", "Nước mắm nhĩ", "Nước mắm truyền thống 30 độ đạm"],
     ["Hòn Khói", "Cửu Long", "Nha Trang Xưa", "Vạn Ninh"], 20),
    ("soy-sauce", "Nước tương", "food", ["Nước tương đậu nành", "Xì dầu"],
     ["Chinsu", "Maggi", "Tam Thái Tử"], 6),
    ("salt", "Muối", "food", ["Muối i-ốt", "Muối hạt"], ["Hòn Khói", "Bạc Liêu"], 4),
    ("sugar", "Đường", "food", ["Đường cát trắng", "Đường phèn"], ["Biên Hòa", "Khánh Hòa"], 4),
    ("oil", "Dầu ăn", "food", ["Dầu đậu nành", "Dầu thực vật"], ["Neptune", "Tường An"], 6),
    ("confectionery", "Bánh kẹo", "food", ["Bánh quy bơ", "Kẹo dừa", "Bánh trung thu"],
     ["Kinh Đô", "Bibica", "Hải Hà"], 8),
    ("rice", "Gạo", "food", ["Gạo ST25", "Gạo thơm Jasmine"], ["Vinafood", "Ông Cua"], 5),
    ("fuel", "Xăng dầu", None, [], [], 0),
    ("ron95", "Xăng RON95", "fuel", ["Xăng RON95-III", "Xăng RON95-V"],
     ["Petrolimex", "PVOIL", "Mipec"], 12),
    ("e5", "Xăng E5 RON92", "fuel", ["Xăng sinh học E5 RON92-II"], ["Petrolimex", "PVOIL"], 8),
    ("diesel", "Dầu diesel", "fuel", ["Dầu DO 0,05S-II", "Dầu DO 0,001S-V"],
     ["Petrolimex", "PVOIL"], 8),
    ("lpg", "Khí dầu mỏ hóa lỏng", None, ["Bình gas 12 kg"], ["Petrolimex Gas", "Saigon Petro"],
     4),
    ("helmets", "Mũ bảo hiểm", None, ["Mũ bảo hiểm nửa đầu", "Mũ bảo hiểm trẻ em"],
     ["Sơn", "Protec", "Asia"], 3),
    ("toys", "Đồ chơi trẻ em", None, ["Đồ chơi nhựa", "Búp bê vải"], ["Duka", "Smoneo"], 2),
    ("steel", "Thép xây dựng", None, ["Thép cuộn D8", "Thép thanh vằn D16"],
     ["Hòa Phát", "Pomina"], 2),
]  # fmt: skip
STATUSES = [
    ("reported", 60),
    ("verified", 5),
    ("to_verify", 5),
    ("in_testing", 10),
    ("received", 10),
    ("registered", 5),
    ("rejected", 2),
    ("cancelled", 3),
]
RARE_WORD = "Chóp Chài"  # a brand on 1 sample in 5,000
FIRST = datetime(2024, 1, 2, 1, 0, tzinfo=UTC)
LAST = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------- fill


def make_app(url: str) -> Any:
    from lims import create_app

    return create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "bench.local",
            "PAGE_CACHE": False,  # time the render itself
        }
    )


def migrate(app: Any, url: str) -> None:
    from flask_migrate import upgrade

    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    with app.app_context():
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()


def seed_reference(rng: random.Random) -> dict[str, Any]:
    """Users, categories with profiles, parameters, campaigns and businesses."""
    from lims.auth.services import create_user
    from lims.catalog.models import Parameter, ProductCategory, ProfileItem
    from lims.extensions import db
    from lims.intake.campaigns import create_campaign
    from lims.intake.models import Business, BusinessKind
    from lims.intake.text import search_key

    user = create_user(
        actor=None,
        email="bench@example.org",
        name="Kỹ thuật viên Bench",
        roles=["technician", "reviewer"],
        password="bench-123456",
    )
    params = [
        Parameter(code=f"p{i}", name_vi=f"Chỉ tiêu {i}", unit="mg/kg", active=True)
        for i in range(1, 9)
    ]
    db.session.add_all(params)
    by_code: dict[str, Any] = {}
    for code, name, parent, _p, _b, _w in CATEGORIES:
        cat = ProductCategory(code=code, name_vi=name, name_en=code, parent=by_code.get(parent))
        by_code[code] = cat
        db.session.add(cat)
    db.session.flush()
    for n, (code, _name, parent, _p, _b, _w) in enumerate(CATEGORIES):
        if parent is not None or code in ("lpg", "helmets", "toys", "steel"):
            for pos, p in enumerate(params[n % 5 : n % 5 + 3], start=1):
                db.session.add(
                    ProfileItem(category_id=by_code[code].id, parameter_id=p.id, position=pos)
                )
    campaigns = []
    for year in (2024, 2025, 2026):
        for q in range(1, 5):
            campaigns.append(
                create_campaign(
                    actor=user,
                    name=f"Khảo sát chất lượng hàng hóa quý {q}/{year}",
                    plan_ref=f"KH {q}/{year}/SKHCN",
                    districts=[d for d, _ in DISTRICTS],
                )
            )
    kinds = list(BusinessKind)
    districts = [d for d, _ in DISTRICTS]
    weights = [w for _, w in DISTRICTS]
    rows = []
    for i in range(3000):
        district = rng.choices(districts, weights)[0]
        kind = rng.choice(kinds)
        market = rng.choice(MARKETS) if kind == BusinessKind.MARKET_STALL else ""
        name = {
            BusinessKind.MARKET_STALL: f"Sạp {i} {market}",
            BusinessKind.SHOP: f"Cửa hàng tạp hóa {rng.choice(PEOPLE)} {i}",
            BusinessKind.SUPERMARKET: f"Siêu thị Mini Mart {i}",
            BusinessKind.FUEL_STATION: f"Cửa hàng xăng dầu số {i}",
            BusinessKind.ONLINE: f"Shop trực tuyến {i}",
            BusinessKind.PRODUCER: f"Cơ sở sản xuất {rng.choice(PEOPLE)} {i}",
        }[kind]
        address = f"{rng.randint(1, 300)} đường số {rng.randint(1, 60)}"
        rows.append(
            {
                "name": name,
                "kind": kind.value,
                "address": address,
                "ward": f"Phường {rng.randint(1, 20)}",
                "district": district,
                "market": market,
                "tax_code": f"42{i:08d}",
                "phone": f"0258 {rng.randint(1000000, 9999999)}",
                "search_key": search_key(name, address, district, market),
                "created_at": FIRST,
            }
        )
    db.session.execute(sa.insert(Business), rows)
    db.session.commit()
    businesses = list(db.session.execute(sa.select(Business.id, Business.name)).all())
    return {
        "user_id": user.id,
        "categories": {code: by_code[code].id for code in by_code},
        "campaigns": [(c.id, c.name) for c in campaigns],
        "businesses": businesses,
    }


def signed_in_client(app: Any) -> Any:
    """A test client signed in through the login form as the user of ``seed_reference`` (a
    session cookie set by hand is no session: sign-in records the session server-side), with
    the first page after sign-in opened, as a browser does."""
    client = app.test_client()
    signed = client.post("/login", data={"email": "bench@example.org", "password": "bench-123456"})
    assert signed.status_code == 302, signed.status_code
    client.get("/")  # shows (and so uses up) the welcome message
    return client


def fill_samples(app: Any, ref: dict[str, Any], n: int, rng: random.Random) -> float:
    """Insert n samples with Core executemany; returns seconds."""
    from lims.extensions import db
    from lims.intake.models import Sample, SampleCodeCounter
    from lims.intake.text import search_key
    from lims.progress import terminal

    leaf = [c for c in CATEGORIES if c[5] > 0]
    leaf_weights = [c[5] for c in leaf]
    statuses = [s for s, _ in STATUSES]
    status_weights = [w for _, w in STATUSES]
    span = (LAST - FIRST).total_seconds()
    seqs: dict[int, int] = {}
    table = Sample.__table__
    started = time.perf_counter()
    chunk: list[dict[str, Any]] = []
    campaigns_by_year: dict[int, list[int]] = {}
    for cid, name in ref["campaigns"]:
        campaigns_by_year.setdefault(int(name.rsplit("/", 1)[1]), []).append(cid)
    with app.app_context(), terminal(f"Filling {n:,} samples", n) as step:
        engine = db.engine
        for i in range(n):
            # time grows with i (registration order), with jitter and ties on the minute
            offset = span * (i + rng.random() * 3) / (n + 3)
            moment = (FIRST + timedelta(seconds=offset)).replace(second=0, microsecond=0)
            year = moment.year
            seq = seqs.get(year, 0) + 1
            seqs[year] = seq
            code = f"KH-{year % 100:02d}-{seq:06d}"
            cat = rng.choices(leaf, leaf_weights)[0]
            product = rng.choice(cat[3])
            brand = RARE_WORD if rng.random() < 0.0002 else rng.choice(cat[4])
            business_id, business_name = rng.choice(ref["businesses"])
            quarter = (moment.month - 1) // 3
            campaign_id = campaigns_by_year[year][quarter]
            status = rng.choices(statuses, status_weights)[0]
            batch = f"L{rng.randint(1000, 9999)}"
            chunk.append(
                {
                    "code": code,
                    "code_year": year,
                    "code_seq": seq,
                    "campaign_id": campaign_id,
                    "business_id": business_id,
                    "category_id": ref["categories"][cat[0]],
                    "status": status,
                    "product_name": product,
                    "brand": brand,
                    "manufacturer": f"Công ty {brand}",
                    "origin": "Việt Nam",
                    "batch": batch,
                    "production_date": None,
                    "expiry_date": None,
                    "declared_standard": "",
                    "quantity": None,
                    "quantity_unit": "",
                    "packaging": "",
                    "seal_number": "",
                    "price": None,
                    "receipt_number": "",
                    "sampled_at": moment,
                    "sampled_by": "Đoàn khảo sát",
                    "latitude": None,
                    "longitude": None,
                    "remarks": "",
                    "condition_on_receipt": "",
                    "storage_location": "",
                    "received_at": None,
                    "received_by_id": None,
                    "rejection_reason": "",
                    "cancel_reason": "",
                    "registered_by_id": ref["user_id"],
                    "import_batch_id": None,
                    "created_at": moment,
                    "search_key": search_key(
                        code, product, brand, business_name, f"Công ty {brand}", batch
                    )[:1000],
                }
            )
            if len(chunk) >= 20000 or i == n - 1:
                with engine.begin() as conn:
                    conn.execute(table.insert(), chunk)
                step(len(chunk))
                chunk = []
        with engine.begin() as conn:
            for year, seq in seqs.items():
                conn.execute(sa.insert(SampleCodeCounter).values(year=year, last_seq=seq))
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("ANALYZE"))
    return time.perf_counter() - started


# ---------------------------------------------------------------------------- timing


def list_cases(app: Any, ref: dict[str, Any], rng: random.Random) -> dict[str, Callable]:
    from lims.extensions import db
    from lims.intake import listing
    from lims.intake.models import Sample, SampleStatus

    total = db.session.scalar(sa.select(sa.func.max(Sample.id)))
    middle = db.session.execute(
        sa.select(Sample.id, Sample.sampled_at, Sample.code)
        .order_by(Sample.sampled_at.desc(), Sample.id.desc())
        .offset(total // 2)
        .limit(1)
    ).one()
    deep = listing.encode_cursor("newest", middle)
    some_campaign = ref["campaigns"][len(ref["campaigns"]) // 2][0]

    def page(**kw: Any) -> Callable[[], Any]:
        after = kw.pop("after", None)
        filters = listing.SampleFilters(**kw)

        def run() -> Any:
            result = listing.fetch_page(filters, after=after)
            db.session.rollback()
            return result

        return run

    def walk_only(**kw: Any) -> Callable[[], Any]:
        run = page(**kw)

        def without_probe() -> Any:
            saved = listing.word_candidates
            listing.word_candidates = lambda words: None  # SQLite: no FTS5 probe
            if db.session.get_bind().dialect.name == "postgresql":
                # a GIN index is read only by bitmap scans: without them, no trigram index
                db.session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
            try:
                return run()
            finally:
                listing.word_candidates = saved

        return without_probe

    def by_code() -> Any:
        sid = rng.randint(1, total)
        code = db.session.scalar(sa.select(Sample.code).where(Sample.id == sid))
        result = listing.fetch_page(listing.SampleFilters(q=code))
        assert [s.code for s in result.samples] == [code]
        db.session.rollback()
        return result

    def rows(**kw: Any) -> Callable[[], Any]:
        filters = listing.SampleFilters(**kw)

        def run() -> Any:
            result = listing.fetch_rows(filters)
            db.session.rollback()
            return result

        return run

    return {
        "first page (newest first)": page(),
        "first page as plain rows (`fetch_rows`, the page's query)": rows(),
        "filtered: status received": page(status=SampleStatus.RECEIVED),
        "filtered: campaign + status reported": page(
            campaign_id=some_campaign, status=SampleStatus.REPORTED
        ),
        "filtered: district Khánh Sơn": page(district="Khánh Sơn"),
        "filtered: one month": page(
            date_from=datetime(2025, 6, 1).date(), date_to=datetime(2025, 6, 30).date()
        ),
        "search by code (exact)": by_code,
        "search by code prefix KH-25-0012": page(q="KH-25-0012"),
        "product search “nuoc mam”": page(q="nuoc mam"),
        "product + business search “xang petrolimex nha trang”": page(q="xang petrolimex cua hang"),
        "deep page (cursor at N/2)": page(after=deep),
        f"rare word search “{RARE_WORD}” (worst case)": page(q=RARE_WORD),
        # the same two searches without the trigram index (SQLite: no FTS5 probe; PostgreSQL:
        # no bitmap scan, the only way to read a GIN index), in the same run: what it gains
        f"rare word search “{RARE_WORD}”, without the trigram index": walk_only(q=RARE_WORD),
        "product search “nuoc mam”, without the trigram index": walk_only(q="nuoc mam"),
    }


def bench_size(url: str, n: int, repeat: int, label: str) -> dict[str, Any]:
    rng = random.Random(20261129 + n)
    app = make_app(url)
    migrate(app, url)
    with app.app_context():
        ref = seed_reference(rng)
    fill_s = fill_samples(app, ref, n, rng)
    print(f"  {label} N={n:,}: filled in {fill_s:.1f} s ({n / fill_s:,.0f} rows/s)", flush=True)
    results: dict[str, Any] = {"fill_s": fill_s, "cases": {}}
    with app.app_context():
        for name, fn in list_cases(app, ref, rng).items():
            stats = timed(fn, repeat)
            results["cases"][name] = stats
            print(f"    {name:58s} p50 {stats['p50']:7.2f} ms  p95 {stats['p95']:7.2f} ms")
        from lims.extensions import db

        db.session.remove()
    client = signed_in_client(app)

    def http_page() -> None:
        response = client.get("/intake/samples")
        assert response.status_code == 200, response.status_code

    def http_search() -> None:
        response = client.get("/intake/samples?q=nuoc+mam&status=reported")
        assert response.status_code == 200

    for name, fn in (
        ("whole page over HTTP (test client)", http_page),
        ("whole page, search + filter (test client)", http_search),
    ):
        stats = timed(fn, repeat)
        results["cases"][name] = stats
        print(f"    {name:58s} p50 {stats['p50']:7.2f} ms  p95 {stats['p95']:7.2f} ms")
    with app.app_context():
        from lims.extensions import db

        db.session.remove()
        db.engine.dispose()
    return results


# ---------------------------------------------------------------------------- import


def import_csv(ref: dict[str, Any], rows: int, rng: random.Random, salt: int) -> bytes:
    from lims.intake.survey_sheet import COLUMNS

    headers = [c.header for c in COLUMNS]
    leaf = [c for c in CATEGORIES if c[5] > 0]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    start = datetime(2026, 9, 1, 8, 0)
    for i in range(rows):
        cat = rng.choice(leaf)
        b = rng.randint(0, 299)
        values = {
            "Nhóm sản phẩm": cat[1],
            "Tên sản phẩm": f"{rng.choice(cat[3])} lô {salt}-{i}",
            "Nhãn hiệu": rng.choice(cat[4]),
            "Số lô": f"L{i}",
            "Ngày sản xuất": "01/08/2026",
            "Hạn sử dụng": "01/08/2028",
            "Số lượng": "2",
            "Đơn vị tính": "chai",
            "Giá mua (đồng)": str(rng.randint(10, 500) * 1000),
            "Thời gian lấy mẫu": (start + timedelta(minutes=i)).strftime("%d/%m/%Y %H:%M"),
            "Người lấy mẫu": "Đoàn khảo sát",
            "Tên cơ sở": f"Cửa hàng nhập {salt}-{b}",
            "Loại hình": "Cửa hàng",
            "Địa chỉ": f"{b} Trần Phú",
            "Huyện": "Nha Trang",
            "Mã số thuế": valid_tax_code(430_000_000 + salt * 10_000 + b * 10),
        }
        writer.writerow([values.get(h, "") for h in headers])
    return ("\ufeff" + out.getvalue()).encode()


def valid_tax_code(nine: int) -> str:
    """A 10-digit MST with a right check digit at ``nine`` or within the next nine sequence
    numbers (the import refuses a wrong check digit, as the tax office never issues one)."""
    from lims.intake.taxcode import enterprise_code

    for step in range(10):
        if code := enterprise_code(f"{nine + step:09d}"):
            return code
    raise AssertionError(f"no valid tax code from {nine}")


def bench_import(url: str, rows: int, runs: int) -> dict[str, Any]:
    from lims.auth.models import User
    from lims.extensions import db, unit_of_work
    from lims.intake.importing import import_sheet

    rng = random.Random(7)
    app = make_app(url)
    migrate(app, url)
    with app.app_context():
        ref = seed_reference(rng)
    rates = []
    for run in range(runs):
        data = import_csv(ref, rows, rng, run)
        with app.app_context():
            actor = db.session.get(User, ref["user_id"])
            campaign_id = ref["campaigns"][-1][0]
            t = time.perf_counter()
            with unit_of_work():
                result = import_sheet(
                    actor=actor, data=data, campaign_id=campaign_id, filename=f"b{run}.csv"
                )
            elapsed = time.perf_counter() - t
            assert len(result.sample_ids) == rows
            rates.append(rows / elapsed)
            print(f"    import run {run + 1}: {rows:,} rows in {elapsed:.2f} s = "
                  f"{rows / elapsed:,.0f} rows/s", flush=True)  # fmt: skip
            db.session.remove()
    with app.app_context():
        db.engine.dispose()
    return {**summary(rates), "rows": rows}


# ---------------------------------------------------------------------------- report


def report(results: dict[str, Any], command: str) -> str:
    lines = [
        measured_line(command, SOURCE),
        "",
        "Data: samples spread over 3 years, 12 campaigns, 15 product categories (weighted: "
        "fish sauce and petrol most common), 3,000 businesses in 8 districts (Khánh Sơn ≈ 3 %), "
        "statuses weighted as a working lab (60 % reported … 3 % cancelled); one brand word "
        "on 1 sample in 5,000 for the worst-case search. Inserted by Core `executemany` in "
        "chunks of 20,000 rows with every index in place.",
        "",
        "List timings are `lims.intake.listing.fetch_page` (the page query, 50 rows + 1, and "
        "the three look-ups of businesses, categories and campaigns, as ORM objects: what the "
        "JSON API uses); “plain rows” is `fetch_rows`, the same query read as plain columns "
        "with two name look-ups, which the list page uses. The last two rows of each table are "
        "the whole page rendered through the Flask test client (session, user, menu, template; "
        "the page cache is off here, so every request renders). p50 · p95 (min–max) over the "
        "repeats, in milliseconds.",
        "",
    ]
    for backend, sizes in results["list"].items():
        if not sizes:  # e.g. --sizes "" --pg-sizes 1000000: PostgreSQL only
            continue
        ns = sorted(sizes)
        lines += [f"### {backend}", ""]
        lines.append("| query | " + " | ".join(f"N = {n:,}" for n in ns) + " |")
        lines.append("|---|" + "---|" * len(ns))
        names = list(next(iter(sizes.values()))["cases"])
        for name in names:
            cells = [fmt(sizes[n]["cases"][name]) for n in ns]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        fill = ", ".join(
            f"{n:,} in {sizes[n]['fill_s']:.0f} s ({n / sizes[n]['fill_s']:,.0f} rows/s)"
            for n in ns
        )
        lines += ["", f"Bulk fill: {fill}."]
        if len(ns) > 1:
            small, big = ns[0], ns[-1]
            ratios = []
            for name in names:
                growth = sizes[big]["cases"][name]["p50"] / sizes[small]["cases"][name]["p50"]
                ratios.append(f"{name}: {growth:.2f}×")
            lines += ["", f"p50 at {big:,} ÷ p50 at {small:,} — " + "; ".join(ratios) + "."]
        lines.append("")
    if results.get("import"):
        lines += ["### Survey-sheet import", ""]
        for backend, r in results["import"].items():
            lines.append(
                f"- {backend}: a {r['rows']:,}-row CSV (check every row, then "
                f"`register_samples` with their tests and audit events, one commit): "
                f"median **{r['p50']:,.0f} rows/s** (min–max {r['min']:,.0f}–{r['max']:,.0f}; "
                f"{r['n']:.0f} runs)."
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=os.environ.get("LIMS_BENCH_SAMPLE_SIZES") or "10000,100000",
        help="default: $LIMS_BENCH_SAMPLE_SIZES or 10000,100000 (make bench-full: up to 1M)",
    )
    parser.add_argument("--pg-sizes", default=None, help="sizes on PostgreSQL (default: --sizes)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--import-rows", type=int, default=10000)
    parser.add_argument("--import-runs", type=int, default=3)
    parser.add_argument("--no-import", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    parser.add_argument("--workdir", default=None, help="where the SQLite files go")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    pg_sizes = [int(s) for s in (args.pg_sizes or "").split(",") if s.strip()] or args.sizes
    backends = {"SQLite": None}
    if os.environ.get("LIMS_BENCH_DATABASE_URL"):
        backends["PostgreSQL"] = os.environ["LIMS_BENCH_DATABASE_URL"]
    print(machine(), flush=True)
    command = "python -m benchmarks samples" + (
        f" -- {' '.join(sys.argv[1:])}" if sys.argv[1:] else ""
    )
    results: dict[str, Any] = {"list": {}, "import": {}}
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="lims-bench-") as tmp:
        for backend, pg_url in backends.items():
            results["list"][backend] = {}
            for n in pg_sizes if pg_url else args.sizes:
                url = pg_url or f"sqlite:///{tmp}/samples-{n}.sqlite3"
                results["list"][backend][n] = bench_size(url, n, args.repeat, backend)
                if not pg_url:
                    Path(f"{tmp}/samples-{n}.sqlite3").unlink(missing_ok=True)
            if not args.no_import:
                url = pg_url or f"sqlite:///{tmp}/import.sqlite3"
                print(f"  {backend} import of {args.import_rows:,} rows", flush=True)
                results["import"][backend] = bench_import(url, args.import_rows, args.import_runs)
    body = report(results, command)
    print(body)
    if not args.no_write:
        write_section("samples", "## Sample list and import", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
