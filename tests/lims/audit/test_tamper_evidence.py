"""Tamper evidence (issue 16, item 11): someone who can write the database — but does not hold
the audit key, kept outside it — rewrites or truncates the audit chain and re-hashes it,
changes a certified result, or swaps a certificate PDF together with its stored hash. Each
attack is made here as a database writer would, and every check must now say so: the chain
walk (keyed with HMAC, head sealed), `lims audit verify` (cross-checks of certificates and
certified results against their keyed events, anchors kept outside), `lims certificates
verify`, `lims storage check` and the public /verify page. On the code before the key, every
one of these attacks passed every check."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import sqlalchemy as sa

from lims import audit, storage
from lims.audit.models import AuditEvent, AuditHead
from lims.audit.writer import compute_hash
from lims.certificates.models import Certificate
from lims.extensions import db
from lims.testing.models import Result
from tests.conftest import login, post_form
from tests.lims.integrity_world import build_world
from tests.lims.ops.ops_helpers import cli_runner


def _write(n: int) -> None:
    for i in range(n):
        audit.record(
            actor=None,
            action="test.change",
            entity_type="thing",
            entity_id=i,
            after={"giá trị": f"Mẫu {i} — nước mắm"},
        )
    db.session.commit()


def _rehash_everything(*, strip_key: bool) -> None:
    """What a database writer without the key can do: recompute every row's hash (SHA-256)
    from the start, and move the head to the new last hash."""
    prev = "0" * 64
    for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)):
        if strip_key and hasattr(event, "key_id"):
            event.key_id = None
        event.prev_hash = prev
        if getattr(event, "key_id", None) is None:
            event.row_hash = hashlib.sha256(
                (prev + audit.writer._content(event)).encode()
            ).hexdigest()
        prev = event.row_hash
    head = db.session.get(AuditHead, 1)
    head.last_hash = prev
    if strip_key and hasattr(head, "mac"):
        head.mac = None
        head.key_id = None
        head.keyed_from_seq = None
    db.session.commit()


def test_history_rewritten_and_rehashed_without_the_key_is_detected(app_ctx):
    _write(5)
    db.session.execute(sa.text("UPDATE audit_events SET reason = 'sửa lén' WHERE seq = 3"))
    _rehash_everything(strip_key=False)
    report = audit.verify_chain()
    assert not report.ok and report.broken_seq == 3 and report.problem == "row content changed"


def test_chain_stripped_of_its_key_and_rehashed_is_detected(app_ctx):
    _write(5)
    db.session.execute(sa.text("UPDATE audit_events SET reason = 'sửa lén' WHERE seq = 2"))
    _rehash_everything(strip_key=True)
    report = audit.verify_chain()
    assert not report.ok
    assert report.problem == "the chain's head is not sealed with the audit key"


def test_truncated_chain_with_its_head_moved_back_is_detected(app_ctx):
    _write(6)
    last_kept = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 4))
    db.session.execute(sa.text("DELETE FROM audit_events WHERE seq > 4"))
    head = db.session.get(AuditHead, 1)
    head.seq, head.last_hash = 4, last_kept.row_hash
    db.session.commit()
    report = audit.verify_chain()
    assert not report.ok and report.problem == "the chain's head seal does not match"


def test_another_key_is_refused_for_writing_and_found_by_the_walk(app, make_user):
    with app.app_context():
        _write(2)
    app.config["AUDIT_KEY"] = "an-attacker-guessed-key-0123456789abcdef"
    with app.app_context():
        with pytest.raises(audit.writer.AuditKeyMismatch, match="LIMS_AUDIT_KEY_FILE"):
            audit.record(actor=None, action="test.change", entity_type="thing")
        db.session.rollback()
        report = audit.verify_chain()
        assert not report.ok and report.problem == "row signed with another key"


def test_rows_written_before_the_key_stay_verifiable(tmp_path):
    """A chain written by the code before the key (plain SHA-256) is sealed by the migration
    as it stands: it verifies, new rows are keyed from the next one, and rewriting an old row
    and re-hashing the old part is found."""
    from flask_migrate import upgrade

    from lims import create_app
    from tests.conftest import base_config

    app = create_app(base_config(f"sqlite:///{tmp_path / 'legacy.sqlite3'}"))
    with app.app_context():
        upgrade(revision="0011_report_indexes")
        prev = "0" * 64
        for seq in (1, 2, 3):  # rows as the code before the key wrote them
            event = AuditEvent(
                seq=seq,
                at=audit.writer.utcnow(),
                actor_name="Cũ",
                action="legacy.change",
                entity_type="thing",
                entity_id=str(seq),
                after={"n": seq},
                prev_hash=prev,
            )
            event.row_hash = hashlib.sha256(
                (prev + audit.writer._content(event)).encode()
            ).hexdigest()
            db.session.execute(
                sa.text(
                    "INSERT INTO audit_events (seq, at, actor_name, action, entity_type, "
                    "entity_id, after, prev_hash, row_hash) VALUES (:seq, :at, :actor, :action, "
                    ":etype, :eid, :after, :prev, :hash)"
                ),
                {
                    "seq": seq,
                    "at": event.at,
                    "actor": "Cũ",
                    "action": "legacy.change",
                    "etype": "thing",
                    "eid": str(seq),
                    "after": json.dumps({"n": seq}),
                    "prev": prev,
                    "hash": event.row_hash,
                },
            )
            prev = event.row_hash
        db.session.execute(
            sa.text("INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 3, :h)"), {"h": prev}
        )
        db.session.commit()
        upgrade()  # 0014 seals the head as it stands
        report = audit.verify_chain()
        assert report.ok and report.checked == 3 and report.keyed_from is None
        _write(2)
        report = audit.verify_chain()
        assert report.ok and report.checked == 5 and report.keyed_from == 4
        keys = db.session.scalars(sa.select(AuditEvent.key_id).order_by(AuditEvent.seq)).all()
        assert keys[:3] == [None, None, None] and None not in keys[3:]
        db.session.execute(sa.text("UPDATE audit_events SET reason = 'sửa' WHERE seq = 2"))
        prev = db.session.scalar(sa.select(AuditEvent.row_hash).where(AuditEvent.seq == 1))
        for event in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.seq.in_([2, 3])).order_by(AuditEvent.seq)
        ):  # the old, unkeyed part re-hashed: the first keyed row's link no longer matches
            event.prev_hash = prev
            event.row_hash = compute_hash(prev, event)
            prev = event.row_hash
        db.session.commit()
        report = audit.verify_chain()
        assert not report.ok and report.broken_seq == 4
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------------------- records


@pytest.fixture
def world(app, make_user):
    with app.app_context():
        return build_world(make_user)


def _cli(app, *args: str):
    return cli_runner(app).invoke(args=list(args))


def test_certified_result_changed_in_the_database_is_found(app, world):
    code = world.certified["A"]
    assert _cli(app, "audit", "verify").exit_code == 0
    with app.app_context():  # a database writer turns the failing histamine into a pass
        result = db.session.scalar(
            sa.select(Result).where(Result.text_entered == "650").order_by(Result.id).limit(1)
        )
        db.session.execute(
            sa.text(
                "UPDATE results SET text_entered = '350', value = 350, verdict = 'pass' "
                "WHERE id = :id"
            ),
            {"id": result.id},
        )
        db.session.commit()
    outcome = _cli(app, "audit", "verify")
    assert outcome.exit_code == 1, outcome.output
    assert f"sample {code} · histamine" in outcome.output
    assert "changed after verification" in outcome.output and "recorded 650" in outcome.output


def _swap_pdf(app, number: str) -> bytes:
    """A database writer replaces a certificate's PDF and its stored SHA-256 together."""
    with app.app_context():
        cert = db.session.scalar(sa.select(Certificate).where(Certificate.number == number))
        genuine = storage.load(cert.pdf, cert.sha256, what="test")
        forged = genuine.replace(b"/Producer", b"/Producex", 1) + b"\n% forged\n"
        column, digest = storage.keep(forged)
        db.session.execute(
            sa.update(Certificate)
            .where(Certificate.id == cert.id)
            .values(pdf=column, sha256=digest)
        )
        db.session.commit()
        return forged


def test_swapped_certificate_pdf_and_hash_are_found_everywhere(app, world, tmp_path):
    number = world.numbers["A"]
    with app.app_context():
        code = db.session.scalar(
            sa.select(Certificate.verification_code).where(Certificate.number == number)
        )
    forged = _swap_pdf(app, number)
    path = tmp_path / "forged.pdf"
    path.write_bytes(forged)
    checks = {
        "audit verify": _cli(app, "audit", "verify"),
        "certificates verify FILE": _cli(app, "certificates", "verify", str(path)),
        "certificates verify": _cli(app, "certificates", "verify"),
        "storage check": _cli(app, "storage", "check"),
    }
    for name, outcome in checks.items():
        assert outcome.exit_code == 1, (name, outcome.output)
        assert f"certificate {number}" in outcome.output and "replaced" in outcome.output, name
    client = app.test_client()
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200 and 'id="verify-unconfirmed"' in page.text
    for url in (f"/verify/{code}", "/verify"):
        upload = post_form(
            client,
            url,
            {"file": (io.BytesIO(forged), "kq.pdf")},
            content_type="multipart/form-data",
        )
        assert upload.status_code == 409, url
        assert "alert-success" not in upload.text and "không khớp" in upload.text


# ---------------------------------------------------------------------------- anchors


def _rewrite_with_the_key(seq: int) -> None:
    """Someone who also stole the key rewrites a row and re-keys the chain consistently."""
    from lims.audit import keys

    key = keys.current_key()
    db.session.execute(sa.text("UPDATE audit_events SET reason = 'sửa' WHERE seq = :s"), {"s": seq})
    prev = "0" * 64
    for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)):
        event.prev_hash = prev
        event.row_hash = compute_hash(prev, event, key)
        prev = event.row_hash
    head = db.session.get(AuditHead, 1)
    head.last_hash = prev
    head.mac = keys.head_seal(key, head.seq, prev, head.keyed_from_seq)
    db.session.commit()


def test_an_anchor_kept_outside_finds_what_the_key_cannot(app, tmp_path):
    with app.app_context():
        _write(4)
    out = tmp_path / "anchors"
    made = _cli(app, "audit", "anchor", "--out", str(out))
    assert made.exit_code == 0, made.output
    anchor = json.loads(made.output.splitlines()[0])
    assert anchor["seq"] == 4 and len(anchor["hash"]) == 64 and anchor["key_id"]
    saved = out / "audit-anchor-4.json"
    assert json.loads(saved.read_text()) == anchor
    assert _cli(app, "audit", "verify", "--anchor", str(saved)).exit_code == 0
    with app.app_context():
        _rewrite_with_the_key(2)
        assert audit.verify_chain().ok  # the key alone can no longer tell
    outcome = _cli(app, "audit", "verify", "--anchor", str(saved))
    assert outcome.exit_code == 1 and "differs from its anchor" in outcome.output
    with app.app_context():  # an older copy of the database put back: consistent, sealed
        from lims.audit import keys

        db.session.execute(sa.text("DELETE FROM audit_events WHERE seq > 2"))
        head = db.session.get(AuditHead, 1)
        head.seq = 2
        head.last_hash = db.session.scalar(
            sa.select(AuditEvent.row_hash).where(AuditEvent.seq == 2)
        )
        head.mac = keys.head_seal(keys.current_key(), 2, head.last_hash, head.keyed_from_seq)
        db.session.commit()
        assert audit.verify_chain().ok
    outcome = _cli(app, "audit", "verify", "--anchor", str(saved))
    assert outcome.exit_code == 1 and "the chain ends before seq 4" in outcome.output


def test_backups_carry_the_anchor_and_it_can_be_checked_later(app, tmp_path):
    import shutil

    from lims.ops.backup import create_backup

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and not shutil.which(
        "pg_dump"
    ):
        pytest.skip("pg_dump not available")
    with app.app_context():
        _write(3)
        head = db.session.get(AuditHead, 1)
        expected = (head.seq, head.last_hash, head.key_id)
    made = create_backup(app, tmp_path)
    anchor = made.manifest["audit_anchor"]
    assert (anchor["seq"], anchor["hash"], anchor["key_id"]) == expected
    assert _cli(app, "audit", "verify", "--anchor", str(made.path)).exit_code == 0
    with app.app_context():
        _rewrite_with_the_key(1)
    outcome = _cli(app, "audit", "verify", "--anchor", str(made.path))
    assert outcome.exit_code == 1 and "seq 3" in outcome.output


def test_the_annual_report_prints_the_anchor(app, make_user, client, login_as):
    import subprocess

    login_as("reviewer")
    with app.app_context():
        head = db.session.get(AuditHead, 1)
        seq, digest = head.seq, head.last_hash
    pdf = client.get("/reports/annual?format=pdf&year=2026")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True
    ).stdout.decode()
    squeezed = "".join(text.split())
    assert "Neonhậtkýhệthống" in squeezed and digest in squeezed and f"có{seq}mục" in squeezed


# ---------------------------------------------------------------------------- noise off the chain


def test_anonymous_uploads_and_agency_refusals_do_not_grow_the_chain(app, world, caplog):
    with app.app_context():
        before = audit.verification.chain_length()
    anonymous = app.test_client()
    for _ in range(3):
        response = post_form(
            anonymous,
            "/verify",
            {"file": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422
    agency = app.test_client()
    assert login(agency, world.agency_email, world.agency_password).status_code == 302
    with app.app_context():
        after_login = audit.verification.chain_length()
    for _ in range(3):
        assert agency.get(f"/certificates/{world.numbers['B']}").status_code == 403
        assert agency.get(f"/certificates/{world.numbers['B']}/pdf").status_code == 403
    with app.app_context():
        assert audit.verification.chain_length() == after_login  # the refusals are logged elsewhere
        assert after_login - before <= 1  # (at most the sign-in itself)
    assert caplog.text.count("certificate.verify_mismatch") == 3
    assert caplog.text.count("certificate.access_denied") == 6
