"""The usability rule: pure, table-driven, including the due-date boundary."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lims.equipment.calibration import DUE_SOON_DAYS, calibration_state, usability
from lims.equipment.models import Calibration, Instrument, InstrumentStatus

TODAY = date(2026, 11, 29)


def _instrument(*dues: int | None, status: str = "in_service", reason: str = "") -> Instrument:
    instrument = Instrument(name="Cân CP-01", status=InstrumentStatus(status), status_reason=reason)
    for n, due in enumerate(dues):
        if due is not None:
            instrument.calibrations.append(
                Calibration(
                    id=n + 1,
                    calibrated_on=TODAY - timedelta(days=400 - n),
                    due_on=TODAY + timedelta(days=due),
                    certificate_number=f"HC-{n}",
                    performed_by="QUATEST 3",
                )
            )
    return instrument


CASES = [
    # dues (days from today), status, usable, state, Vietnamese reason starts with
    ((), "in_service", False, "uncalibrated", "Chưa có hồ sơ hiệu chuẩn"),
    ((-1,), "in_service", False, "overdue", "Quá hạn hiệu chuẩn từ 29/11/2026"),
    ((-90,), "in_service", False, "overdue", "Quá hạn hiệu chuẩn từ 01/09/2026"),
    ((0,), "in_service", True, "due_soon", "Sắp đến hạn hiệu chuẩn: 29/11/2026 (còn 0 ngày)"),
    ((1,), "in_service", True, "due_soon", "Sắp đến hạn hiệu chuẩn: 30/11/2026"),
    ((DUE_SOON_DAYS,), "in_service", True, "due_soon", "Sắp đến hạn hiệu chuẩn: 29/12/2026"),
    ((DUE_SOON_DAYS + 1,), "in_service", True, "ok", "Hiệu chuẩn còn hạn đến 30/12/2026"),
    ((365,), "in_service", True, "ok", "Hiệu chuẩn còn hạn đến"),
    ((365,), "out_of_service", False, "out_of_service", "Thiết bị đang ngừng sử dụng"),
    ((-5,), "out_of_service", False, "out_of_service", "Thiết bị đang ngừng sử dụng"),
    # the latest calibration counts, not the one with the latest due date
    ((-10, 100), "in_service", True, "ok", "Hiệu chuẩn còn hạn"),
    ((100, -10), "in_service", False, "overdue", "Quá hạn hiệu chuẩn từ"),
]


@pytest.mark.parametrize(("dues", "status", "usable", "state", "reason"), CASES)
def test_usability_rule(dues, status, usable, state, reason):
    instrument = _instrument(*dues, status=status)
    verdict = usability(instrument, TODAY)
    assert verdict.usable is usable
    assert verdict.reason_vi.startswith(reason), verdict.reason_vi
    assert verdict.reason_en
    assert calibration_state(instrument, TODAY) == state
    usable_, vi, en = verdict  # a plain (usable, reason_vi, reason_en) triple
    assert (usable_, vi, en) == (verdict.usable, verdict.reason_vi, verdict.reason_en)


def test_overdue_reason_names_the_due_date_in_both_languages():
    verdict = usability(_instrument(-1), TODAY)
    assert verdict.reason_vi == "Quá hạn hiệu chuẩn từ 29/11/2026 (hạn hiệu chuẩn 28/11/2026)"
    assert verdict.reason_en == "Calibration overdue since 29/11/2026 (due 28/11/2026)"


def test_out_of_service_reason_is_shown():
    verdict = usability(_instrument(365, status="out_of_service", reason="Hỏng cảm biến"), TODAY)
    assert verdict.reason_vi == "Thiết bị đang ngừng sử dụng: Hỏng cảm biến"
    assert verdict.reason("en") == "The instrument is out of service: Hỏng cảm biến"


def test_the_boundary_moves_with_today():
    instrument = _instrument(0)
    assert usability(instrument, TODAY).usable
    assert not usability(instrument, TODAY + timedelta(days=1)).usable
