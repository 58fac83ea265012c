"""Sample registration: the sample code (gap-free counter), the profile's tests, the checks of
a new sample's references, and registering one sample (with photos) or many (the import).

Plain functions with keyword arguments and the acting user as ``actor=``; the caller commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from lims import audit
from lims.auth.permissions import require_role
from lims.catalog.models import Parameter, ProductCategory
from lims.catalog.profiles import profile_for_quantity
from lims.counters import next_in_sequence
from lims.extensions import db, preassign_ids
from lims.rules.numbers import parse_id

from .codes import format_code
from .fields import NAMES
from .lifecycle import INITIAL
from .models import Business, Campaign, CampaignStatus, Sample, SampleCodeCounter, SampleTest
from .photos import PhotoUpload
from .sample_photos import check_photos, store_photo
from .text import search_key
from .validation import LOCAL_TZ, IntakeError, SampleInput, SampleInputError

# ---------------------------------------------------------------------------- sample codes


def _code_pattern() -> str:
    if has_app_context():
        return str(current_app.config.get("SAMPLE_CODE_PATTERN") or "KH-{yy}-{seq:06d}")
    return "KH-{yy}-{seq:06d}"


def allocate_sample_code(*, year: int) -> tuple[str, int]:
    """The next code of ``year`` and its sequence number, taken inside the caller's
    transaction: the counter row stays locked until it commits (gap-free, never reused)."""
    pattern = _code_pattern()
    code = format_code(pattern, year=year, seq=1)  # checks the pattern before counting
    seq = next_in_sequence(SampleCodeCounter, {"year": year})
    code = format_code(pattern, year=year, seq=seq, check=False)
    return code, seq


def allocate_sample_codes(*, year: int, count: int) -> list[tuple[str, int]]:
    """``count`` consecutive codes of ``year`` with their sequence numbers, taken with one
    counter update inside the caller's transaction (same guarantees as
    :func:`allocate_sample_code`)."""
    if count < 1:
        return []
    pattern = _code_pattern()
    format_code(pattern, year=year, seq=1)  # checks the pattern before counting
    last = next_in_sequence(SampleCodeCounter, {"year": year}, step=count)
    return [
        (format_code(pattern, year=year, seq=seq, check=False), seq)
        for seq in range(last - count + 1, last + 1)
    ]


# ---------------------------------------------------------------------------- samples


def sample_search_key(sample: Sample, business: Business | None = None) -> str:
    """The text searched by the sample list: code, product, brand, business, batch."""
    business = business or sample.business
    return search_key(
        sample.code,
        sample.product_name,
        sample.brand,
        business.name if business else None,
        sample.manufacturer,
        sample.batch,
    )[:1000]


def _sample_snapshot(s: Sample) -> dict[str, Any]:
    """What the audit event keeps of a sample: its code, status and every declared field."""
    return {"code": s.code, "status": s.status.value, **{n: getattr(s, n) for n in NAMES}}


def _profile_parameter_ids(category_id: int, quantity: Decimal | None = None) -> list[int]:
    """The category's default tests that fit a sample of ``quantity`` units."""
    return [p.id for p in profile_tests(category_id, quantity)[0]]


def profile_tests(category_id: int, quantity: Decimal | None) -> tuple[list[Any], list[Any]]:
    """(parameters, [(parameter, why left out)]) of the category's profile for a sample of
    ``quantity`` units (``lims.catalog.profiles.profile_for_quantity``)."""
    return profile_for_quantity(category_id, quantity)


def _check_parameters(parameter_ids: Sequence[int]) -> list[int]:
    ids: list[int] = []
    for pid in parameter_ids:
        if pid not in ids:
            ids.append(int(pid))
    if not ids:
        return ids
    found = set(
        db.session.scalars(
            sa.select(Parameter.id).where(
                Parameter.id.in_([i for i in ids if parse_id(i)]),  # never an overflow
                Parameter.active.is_(True),
            )
        )
    )
    if missing := [i for i in ids if i not in found]:
        raise IntakeError(
            _l("Unknown or inactive parameter: %(ids)s", ids=", ".join(map(str, missing))),
            "parameter_ids",
        )
    return ids


def check_registration(data: SampleInput) -> Business | None:
    """The references of a new sample checked (open campaign, active category, existing
    business); the business, if any. Raises IntakeError / SampleInputError."""
    errors: dict[str, Any] = {}
    campaign = db.session.get(Campaign, data.campaign_id)
    if campaign is None:
        errors["campaign_id"] = _l("This campaign does not exist.")
    elif campaign.status != CampaignStatus.OPEN:
        errors["campaign_id"] = _l("This campaign is closed and takes no new samples.")
    category = db.session.get(ProductCategory, data.category_id)
    if category is None or not category.active:
        errors["category_id"] = _l("This product category does not exist.")
    business = None
    if data.business_id is not None:
        business = db.session.get(Business, data.business_id)
        if business is None:
            errors["business_id"] = _l("This business does not exist.")
    if errors:
        if len(errors) == 1:
            field, message = next(iter(errors.items()))
            raise IntakeError(message, field)
        raise SampleInputError(errors)
    return business


def _new_sample(
    actor: Any,
    data: SampleInput,
    business: Business | None,
    *,
    code: str,
    year: int,
    seq: int,
    import_batch_id: int | None,
) -> Sample:
    sample = Sample(
        code=code,
        code_year=year,
        code_seq=seq,
        status=INITIAL,
        **{name: getattr(data, name) for name in NAMES},
        registered_by_id=actor.id,
        import_batch_id=import_batch_id,
    )
    sample.search_key = sample_search_key(sample, business)
    return sample


def _code_year(data: SampleInput) -> int:
    return data.sampled_at.astimezone(LOCAL_TZ).year


def register_sample(
    *,
    actor: Any,
    data: SampleInput,
    photos: Sequence[PhotoUpload] = (),
    parameter_ids: Sequence[int] | None = None,
    import_batch_id: int | None = None,
) -> Sample:
    """Register a sample taken in a campaign: code, photos, tests (from the category's
    profile unless ``parameter_ids`` is given) and the audit event, in the caller's unit of
    work."""
    require_role(actor, "technician")
    business = check_registration(data)
    checked_photos = check_photos(photos)
    left_out: list[Any] = []
    if parameter_ids is None:
        profile, left_out = profile_tests(data.category_id, data.quantity)
        test_ids = [p.id for p in profile]
    else:
        test_ids = _check_parameters(parameter_ids)

    year = _code_year(data)
    code, seq = allocate_sample_code(year=year)
    sample = _new_sample(
        actor, data, business, code=code, year=year, seq=seq, import_batch_id=import_batch_id
    )
    db.session.add(sample)
    db.session.flush()
    for checked in checked_photos:
        store_photo(sample, checked)
    for position, pid in enumerate(test_ids, start=1):
        db.session.add(SampleTest(sample_id=sample.id, parameter_id=pid, position=position))
    db.session.flush()
    after = _sample_snapshot(sample)
    after["photos"] = [hashlib.sha256(p.upload.data).hexdigest() for p in checked_photos]
    after["parameter_ids"] = test_ids
    if left_out:
        after["profile_left_out"] = [p.code for p, _why in left_out]
    audit.record(
        actor=actor,
        action="sample.register",
        entity_type="sample",
        entity_id=sample.id,
        after=after,
    )
    # what the profile proposed but did not fit the sample, for the page to say (not stored)
    sample.profile_left_out = left_out  # type: ignore[attr-defined]
    return sample


class SampleRowError(Exception):
    """:func:`register_samples` refused item ``index`` (0-based) with ``error``."""

    def __init__(self, index: int, error: IntakeError | SampleInputError) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


def register_samples(
    *,
    actor: Any,
    items: Sequence[tuple[SampleInput, Sequence[int] | None]],
    import_batch_id: int | None = None,
) -> list[Sample]:
    """Register many samples (no photos) at once, as :func:`register_sample` would one by one:
    same checks, same codes in the same order, same tests and one ``sample.register`` audit
    event per sample. Each item is the sample's data and its parameter ids (None: the
    category's profile).

    Every item is checked before anything is written; the first refused one raises
    :class:`SampleRowError`. Then the codes of each year are taken with one counter update,
    and samples, tests and audit events are written with one flush each.
    """
    require_role(actor, "technician")
    checked: list[tuple[SampleInput, Business | None, list[int]]] = []
    tests_cache: dict[Any, list[int]] = {}
    for index, (data, parameter_ids) in enumerate(items):
        try:
            business = check_registration(data)
            key = (
                ("profile", data.category_id, data.quantity)
                if parameter_ids is None
                else tuple(parameter_ids)
            )
            if key not in tests_cache:
                tests_cache[key] = (
                    _profile_parameter_ids(data.category_id, data.quantity)
                    if parameter_ids is None
                    else _check_parameters(parameter_ids)
                )
        except (IntakeError, SampleInputError) as exc:
            raise SampleRowError(index, exc) from None
        checked.append((data, business, tests_cache[key]))
    if not checked:
        return []

    per_year: dict[int, int] = {}
    for data, _, _ in checked:
        year = _code_year(data)
        per_year[year] = per_year.get(year, 0) + 1
    codes = {year: iter(allocate_sample_codes(year=year, count=n)) for year, n in per_year.items()}

    samples: list[Sample] = []
    for data, business, _ in checked:
        year = _code_year(data)
        code, seq = next(codes[year])
        samples.append(
            _new_sample(
                actor,
                data,
                business,
                code=code,
                year=year,
                seq=seq,
                import_batch_id=import_batch_id,
            )
        )
    preassign_ids(samples)
    db.session.add_all(samples)
    db.session.flush()
    test_rows = [
        {"sample_id": sample.id, "parameter_id": pid, "position": position}
        for sample, (_, _, test_ids) in zip(samples, checked, strict=True)
        for position, pid in enumerate(test_ids, start=1)
    ]
    if test_rows:
        db.session.execute(sa.insert(SampleTest), test_rows)
    events = []
    for sample, (_, _, test_ids) in zip(samples, checked, strict=True):
        after = _sample_snapshot(sample)
        after["photos"] = []
        after["parameter_ids"] = list(test_ids)
        events.append(
            {
                "action": "sample.register",
                "entity_type": "sample",
                "entity_id": sample.id,
                "after": after,
            }
        )
    audit.record_many(actor=actor, events=events)
    return samples
