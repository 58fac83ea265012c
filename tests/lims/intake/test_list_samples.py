"""The sample list: filters, search, keyset pages (every sample once, in order, with ties),
bad filter values, exports."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from openpyxl import load_workbook

from lims.extensions import db
from lims.intake import businesses, listing, receipt, registration
from lims.intake.models import Sample, SampleStatus
from lims.intake.validation import parse_sample_fields
from tests.conftest import login
from tests.lims.intake.intake_helpers import make_world, raw_sample

BASE = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)


def fill(world, n=23):
    """n samples; every third shares its sampled_at with the one before (ties)."""
    from lims.auth.models import User

    actor = db.session.get(User, world["user_id"])
    other = businesses.create_business(
        actor=actor, name="Cây xăng Cam Ranh số 3", kind="fuel_station", district="Cam Ranh"
    )
    samples = []
    for i in range(n):
        moment = BASE + timedelta(hours=(i - i % 3) if i % 3 == 1 else i)
        raw = raw_sample(
            world,
            product_name=f"Nước mắm mẫu {i}" if i % 2 == 0 else f"Xăng RON95 mẫu {i}",
            brand="Hòn Khói" if i % 2 == 0 else "Petrolimex",
            manufacturer="" if i % 2 else "Công ty Nước mắm Vạn Ninh",
            business_id=str(world["business_id"] if i % 2 == 0 else other.id),
            sampled_at=moment.isoformat(),
            production_date="",
            expiry_date="",
        )
        sample = registration.register_sample(
            actor=actor, data=parse_sample_fields(raw), parameter_ids=[]
        )
        samples.append(sample)
    receipt.cancel_sample(actor=actor, sample=samples[4], reason="hỏng")
    db.session.commit()
    return samples


def walk(filters, limit=5):
    seen, after = [], None
    for _ in range(100):
        page = listing.fetch_page(filters, after=after, limit=limit)
        seen.extend(s.id for s in page.samples)
        if page.next_cursor is None:
            return seen
        after = page.next_cursor
    raise AssertionError("no end")


def expected(order):
    rows = db.session.execute(sa.select(Sample.id, Sample.sampled_at, Sample.code)).all()
    if order == "newest":
        return [r.id for r in sorted(rows, key=lambda r: (r.sampled_at, r.id), reverse=True)]
    if order == "oldest":
        return [r.id for r in sorted(rows, key=lambda r: (r.sampled_at, r.id))]
    return [r.id for r in sorted(rows, key=lambda r: r.code)]


def test_keyset_pages_cover_every_sample_once_in_order(world):
    fill(world)
    for sort in ("newest", "oldest", "code"):
        for limit in (1, 4, 7, 50):
            ids = walk(listing.SampleFilters(sort=sort), limit=limit)
            assert ids == expected(sort), (sort, limit)


def test_filters(world):
    samples = fill(world, 12)
    ids = lambda **kw: set(walk(listing.SampleFilters(**kw), limit=4))  # noqa: E731
    assert ids(status=SampleStatus.CANCELLED) == {samples[4].id}
    assert ids(campaign_id=world["campaign_id"]) == {s.id for s in samples}
    assert ids(campaign_id=999) == set()
    # the parent category includes its children
    assert len(ids(category_id=world["parent_category_id"])) == 12
    assert ids(district="Cam Ranh") == {s.id for i, s in enumerate(samples) if i % 2}
    # date range in Việt Nam days: BASE is 10:00 on 01/10/2026 local
    day = ids(date_from=BASE.date(), date_to=BASE.date())
    assert day == {s.id for s in samples if s.sampled_at < BASE + timedelta(hours=14)}
    # text search: accents, case, NFD, several words, business name
    assert ids(q="nuoc MAM") == {s.id for i, s in enumerate(samples) if i % 2 == 0}
    assert ids(q=unicodedata.normalize("NFD", "xăng ron95")) == {
        s.id for i, s in enumerate(samples) if i % 2
    }
    assert ids(q="petrolimex 7") == {samples[7].id}
    assert ids(q="bà năm") == {s.id for i, s in enumerate(samples) if i % 2 == 0}
    assert ids(q="100%") == set()
    # code: exact and prefix
    code = samples[3].code
    assert ids(q=code) == {samples[3].id}
    assert ids(q=code.lower()) == {samples[3].id}
    assert ids(q=code[:-1]) >= {samples[3].id}
    assert ids(q="KH-") == {s.id for s in samples}
    combined = ids(q="xang", district="Cam Ranh", status=SampleStatus.REGISTERED)
    assert combined == {s.id for i, s in enumerate(samples) if i % 2}


def test_parse_filters_reports_garbage():
    filters, problems = listing.parse_filters(
        {
            "status": "lost",
            "campaign": "abc",
            "from": "32/13/2026",
            "to": "2026-01-01",
            "sort": "random",
            "category": "1; drop",
            "q": "  nước   mắm ",
        }
    )
    assert filters.status is None and filters.campaign_id is None and filters.date_from is None
    assert filters.date_to is not None and filters.sort == "newest" and filters.q == "nước mắm"
    assert {p.field for p in problems} == {"status", "campaign", "from", "sort", "category"}


def test_cursor_errors():
    for bad in ("???", "e30", "W10", "x" * 500, listing.encode_cursor("code", _Fake())):
        try:
            listing.decode_cursor("newest", bad)
        except listing.CursorError:
            continue
        raise AssertionError(bad)


class _Fake:
    id = 3
    code = "KH-26-000003"
    sampled_at = BASE


def test_list_page(app, client):
    with app.app_context():
        world = make_world()
        samples = fill(world, 60)
        codes = [s.code for s in samples]
    assert login(client, "tech@intake.example.org", "pw-123456").status_code == 302
    page = client.get("/intake/samples")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert codes[-1] in body and "next-page" in body and "sample_ids" in body
    assert 'action="/intake/labels"' in body
    assert "đã hủy" in body.lower() or "cancelled" in body.lower()
    next_url = body.split('id="next-page"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_url.replace("&amp;", "&"))
    assert second.status_code == 200
    assert codes[0] in second.get_data(as_text=True)
    garbage = client.get("/intake/samples?status=zzz&from=99/99/9999&after=%%%&campaign=x")
    assert garbage.status_code == 200
    assert "alert-warning" in garbage.get_data(as_text=True)
    search = client.get(f"/intake/samples?q={codes[5]}")
    assert codes[5] in search.get_data(as_text=True)
    assert codes[6] not in search.get_data(as_text=True)


def test_exports(app, client):
    with app.app_context():
        world = make_world()
        samples = fill(world, 30)
        codes = {s.code for s in samples}
        cancelled = samples[4].code
    login(client, "tech@intake.example.org", "pw-123456")
    response = client.get("/intake/samples.csv")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 31
    assert {r[0] for r in rows[1:]} == codes
    assert any("Nước mắm mẫu 0" in r for r in rows)
    filtered = client.get("/intake/samples.csv?status=cancelled").get_data().decode("utf-8-sig")
    assert [r[0] for r in csv.reader(io.StringIO(filtered))][1:] == [cancelled]
    xlsx = client.get("/intake/samples.xlsx?q=xang")
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.get_data())).active
    values = list(ws.iter_rows(values_only=True))
    assert len(values) == 16
    assert all("Xăng" in r[4] for r in values[1:])
    assert isinstance(values[1][17], datetime)


def test_export_walks_in_chunks(world, monkeypatch):
    fill(world, 11)
    seen = [s.id for s in listing.iter_samples(listing.SampleFilters(), chunk=3)]
    assert seen == expected("newest")


def test_reviewer_sees_list_agency_does_not(app, client, make_user):
    reviewer = make_user("reviewer")
    login(client, reviewer.email, reviewer.password)
    assert client.get("/intake/samples").status_code == 200
    other = app.test_client()
    agency = make_user("agency")
    login(other, agency.email, agency.password)
    assert other.get("/intake/samples").status_code == 403
