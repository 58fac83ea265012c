"""``make demo`` signs: a LIMS DEMO CA and a key for the demo reviewer, made once, clearly named
as demo/test, used unless the lab configured its own keys."""

from __future__ import annotations

import stat
from pathlib import Path

from lims.demo import DEMO_USERS, prepare_demo_signing
from lims.pdf import sigcheck
from lims.pdf.signkeys import check_key, load_key, read_key_table


def test_demo_signing_keys_are_made_once_and_say_demo(app, tmp_path):
    app.instance_path = str(tmp_path)
    with app.app_context():
        table = prepare_demo_signing()
        assert app.config["SIGNING_KEYS"] == str(table)
        root = Path(app.config["SIGNING_TRUST_ROOTS"])
    reviewer = next((e, n) for e, n, roles, _ in DEMO_USERS if "reviewer" in roles)
    keys = read_key_table(table)
    assert set(keys) == {reviewer[0]}
    key = load_key(keys[reviewer[0]])
    check_key(key, name=reviewer[1], email=reviewer[0])
    assert key.is_demo and "LIMS DEMO" in key.organisation
    (ca,) = sigcheck.load_trust_roots([root])
    assert (
        "LIMS DEMO CA" in ca.subject.human_friendly
        and "demo/test only" in ca.subject.human_friendly
    )
    for name in ("demo-ca-key.pem", "reviewer_example.org.p12", "reviewer_example.org.pass"):
        assert stat.S_IMODE((table.parent / name).stat().st_mode) == 0o600, name
    fingerprint, ca_bytes = key.fingerprint, root.read_bytes()
    app.config.update(SIGNING_KEYS="", SIGNING_TRUST_ROOTS="")
    with app.app_context():
        assert prepare_demo_signing() == table  # made once: the same CA and key again
    assert root.read_bytes() == ca_bytes
    assert load_key(read_key_table(table)[reviewer[0]]).fingerprint == fingerprint


def test_the_labs_own_keys_are_left_alone(app, tmp_path):
    app.instance_path = str(tmp_path)
    app.config["SIGNING_KEYS"] = "/etc/lims/keys.toml"
    with app.app_context():
        assert prepare_demo_signing() is None
    assert app.config["SIGNING_KEYS"] == "/etc/lims/keys.toml"
    assert not (tmp_path / "demo-signing").exists()
