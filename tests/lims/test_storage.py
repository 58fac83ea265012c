"""A stored file is served only while its bytes match the SHA-256 recorded when it was stored."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lims.auth.models import User
from lims.equipment import services as equipment
from lims.equipment.models import Calibration
from lims.extensions import db
from tests.conftest import login

PDF = b"%PDF-1.4\n% Giay chung nhan hieu chuan\n%%EOF\n"


def test_tampered_stored_file_is_refused_not_served(app, make_user):
    reviewer = make_user("reviewer")
    with app.app_context():
        actor = db.session.get(User, reviewer.id)
        instrument = equipment.create_instrument(
            actor=actor, name="Cân CP-02", kind="balance", protocol="mt-sics", port_url="loop://"
        )
        today = equipment.local_today()
        calibration = equipment.add_calibration(
            actor=actor, instrument=instrument, calibrated_on=today,
            due_on=today + timedelta(days=365), certificate_number="HC-02",
            performed_by="QUATEST 3", pdf=PDF,
        )  # fmt: skip
        db.session.commit()
        calibration_id = calibration.id
    client = app.test_client()
    assert login(client, reviewer.email, reviewer.password).status_code == 302
    url = f"/equipment/calibrations/{calibration_id}/certificate.pdf"
    good = client.get(url)
    assert good.status_code == 200 and good.data == PDF
    with app.app_context():
        db.session.execute(
            sa.update(Calibration)
            .where(Calibration.id == calibration_id)
            .values(pdf_data=PDF.replace(b"hieu", b"HIEU"))
        )
        db.session.commit()
    bad = client.get(url)
    assert bad.status_code == 500
    assert "không vượt qua kiểm tra toàn vẹn" in bad.get_data(as_text=True)
    assert b"HIEU" not in bad.data
