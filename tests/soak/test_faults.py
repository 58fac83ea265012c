"""Faults with real processes and real signals: SIGKILL in the middle of a survey-sheet import
(the ``lims intake import`` command), of result saves and of certificate issue (``lims serve``,
master and workers at once, and a single gunicorn worker), on a SQLite file and on PostgreSQL.
After each kill the database must be consistent (tests/soak/world.py: audit chain, gap-free
unique numbers, import batches all-or-nothing, every certificate with its PDF) and everything
the server acknowledged must be there; then the same work completes normally."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import signal
import subprocess
import threading
import time

import pytest

from benchmarks.serving import (
    LIMS_BIN,
    ROOT,
    Server,
    prepare_database,
    request,
    server_env,
)
from benchmarks.serving import csrf_from as csrf
from benchmarks.serving import sign_in as web_sign_in
from tests.soak.world import check_consistency, demo_world, rows, scalar

# the import is killed this many seconds after it starts
KILL_AFTER = (float(os.environ.get("LIMS_SOAK_KILL_MIN", "0.4")),
              float(os.environ.get("LIMS_SOAK_KILL_MAX", "1.5")))  # fmt: skip
# after the first acknowledged operations, the kill waits up to this many seconds more
KILL_JITTER = float(os.environ.get("LIMS_SOAK_KILL_JITTER", "0.05"))
VERIFIABLE = re.compile(r'name="result_ids" value="(\d+)" aria-label="[^"]*">')
SEEN = re.compile(r'name="(seen-\d+)" value="(\d+)"')  # the version each result was shown at
VALUE_INPUT = re.compile(r'name="value-(\d+)" id="value-\d+" value=""')


@pytest.fixture(scope="module")
def soak_db(soak_url):
    prepare_database(soak_url)
    return soak_url, demo_world(soak_url, tokens_per_role=1), server_env(soak_url)


def survey_sheet(n: int, tag: str) -> bytes:
    template = subprocess.run(
        [LIMS_BIN, "intake", "template", "/dev/stdout"], capture_output=True, cwd=ROOT
    )
    lines = template.stdout.decode("utf-8-sig").splitlines()
    header, example = next(csv.reader([lines[0]])), next(csv.reader([lines[1]]))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for i in range(n):
        row = list(example)
        row[header.index("Tên sản phẩm")] = f"Nước mắm {tag} {i}"
        row[header.index("Số niêm phong")] = f"{tag}-{i:05d}"
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def test_kill_during_sheet_import_leaves_all_or_nothing(soak_db, tmp_path):
    url, world, env = soak_db
    n = 400
    sheet = tmp_path / "survey.csv"
    sheet.write_bytes(survey_sheet(n, f"K{random.randrange(10**6)}"))
    before = scalar(url, "SELECT count(*) FROM samples")
    cmd = [LIMS_BIN, "intake", "import", str(sheet), "--campaign", str(world.campaign_id)]
    cmd += ["--as", "technician@example.org"]
    out = subprocess.DEVNULL  # killed mid-way: what it printed does not matter
    with subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=out) as proc:
        time.sleep(random.uniform(*KILL_AFTER))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    after_kill = scalar(url, "SELECT count(*) FROM samples") - before
    assert after_kill in (0, n), f"half-imported sheet: {after_kill} of {n} rows"
    check_consistency(url, env)
    # the same sheet imports whole afterwards (or is refused as already imported)
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if after_kill == 0:
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        assert done.returncode == 1 and "nothing saved" in done.stderr
    assert scalar(url, "SELECT count(*) FROM samples") - before == n
    check_consistency(url, env)


def _register_and_receive(port: int, world, token: str, count: int) -> list[str]:
    cookie = web_sign_in(port, "technician@example.org")
    codes = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for i in range(count):
        body = {"campaign_id": world.campaign_id, "category_id": world.category_id,
                "business_id": world.business_id, "product_name": f"Mẫu lỗi {i}",
                "sampled_at": "05/11/2026 09:30", "quantity": "1", "quantity_unit": "chai",
                "parameter_ids": world.parameter_ids}  # fmt: skip
        status, _h, text = request(port, "POST", "/api/v1/samples", headers=headers,
                                   raw=json.dumps(body))  # fmt: skip
        assert status == 201, text
        code = json.loads(text)["code"]
        _s, _h, page = request(port, "GET", f"/intake/samples/{code}", cookie=cookie)
        form = {"csrf_token": csrf(page), "rcv-condition": "Nguyên vẹn",
                "rcv-storage_location": "Tủ 1", "rcv-received_at": ""}  # fmt: skip
        status, _h, text = request(port, "POST", f"/intake/samples/{code}/receive", form, cookie)
        assert status == 302, re.findall(
            r'class="[^"]*(?:invalid-feedback|alert)[^"]*"[^>]*>([^<]*)', text
        )
        codes.append(code)
    return codes


def _save_results(port: int, cookie: str, code: str) -> int:
    _s, _h, page = request(port, "GET", f"/testing/samples/{code}", cookie=cookie)
    tids = VALUE_INPUT.findall(page)
    form = {"csrf_token": csrf(page)}
    for tid in tids:
        form.update({f"value-{tid}": "12,5", f"orig-value-{tid}": "", f"version-{tid}": "0"})
    status, _h, _t = request(port, "POST", f"/testing/samples/{code}", form, cookie)
    assert status == 302, status
    return len(tids)


def _in_background(work, total: int, timeout: float = 120.0) -> list:
    """Run ``work(acknowledged)`` in a thread and return once the server has acknowledged a
    random number of the ``total`` operations (between 1 and half of them), plus a random
    moment inside the next one — the caller kills the server then, so the kill lands in the
    middle of the work whatever the machine's speed. The list keeps what was acknowledged
    before the server died (connection errors end the thread quietly)."""
    acknowledged: list = []

    def run() -> None:
        try:
            work(acknowledged)
        except (OSError, AssertionError):
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wanted = random.randint(1, max(1, total // 2))
    deadline = time.monotonic() + timeout
    while len(acknowledged) < wanted and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(random.uniform(0.0, KILL_JITTER))
    return acknowledged


def test_kill_during_result_saves(soak_db):
    url, world, env = soak_db
    server = Server(env, workers=2, threads=2).start()
    try:
        codes = _register_and_receive(server.port, world, world.tokens["technician"][0], 30)
        cookie = web_sign_in(server.port, "technician@example.org")

        def save_all(acknowledged: list) -> None:
            for code in codes:
                _save_results(server.port, cookie, code)
                acknowledged.append(code)

        acknowledged = _in_background(save_all, len(codes))
        server.kill()
    finally:
        server.stop()
    counts = dict(
        rows(url, "SELECT s.code, count(r.id) FROM samples s JOIN sample_tests t "
                  "ON t.sample_id = s.id LEFT JOIN results r ON r.test_id = t.id "
                  "WHERE s.code IN :codes GROUP BY s.code".replace(":codes",
                  "(" + ",".join(f"'{c}'" for c in codes) + ")"))
    )  # fmt: skip
    per_sample = len(world.parameter_ids)
    assert all(n in (0, per_sample) for n in counts.values()), counts  # one save: all or none
    assert all(counts[c] == per_sample for c in acknowledged), "an acknowledged save was lost"
    assert len(acknowledged) < len(codes), "the kill came after the last save"
    with Server(env, workers=2, threads=2) as server:
        check_consistency(url, env, port=server.port)
        cookie = web_sign_in(server.port, "technician@example.org")
        for code in codes:
            if counts[code] == 0:
                assert _save_results(server.port, cookie, code) == per_sample
    assert scalar(url, "SELECT count(*) FROM results r JOIN sample_tests t ON r.test_id = t.id "
                       "JOIN samples s ON t.sample_id = s.id WHERE s.product_name LIKE 'Mẫu lỗi %'"
                  ) == len(codes) * per_sample  # fmt: skip


def _verify_everything(port: int) -> None:
    cookie = web_sign_in(port, "reviewer@example.org")
    for _ in range(20):
        _s, _h, page = request(port, "GET", "/testing/verify", cookie=cookie)
        ids = VERIFIABLE.findall(page)
        if not ids:
            return
        form = {"csrf_token": csrf(page), "result_ids": ids, **dict(SEEN.findall(page))}
        assert request(port, "POST", "/testing/verify", form, cookie)[0] == 302


def _issue(port: int, cookie: str, code: str) -> int:
    _s, _h, page = request(port, "GET", f"/certificates/issue/{code}", cookie=cookie)
    form = {"csrf_token": csrf(page), "language": "vi", "password": "reviewer-demo-2026"}
    return request(port, "POST", f"/certificates/issue/{code}", form, cookie, timeout=60)[0]


@pytest.mark.parametrize("target", ["server", "worker"])
def test_kill_during_certificate_issue(soak_db, target):
    url, world, env = soak_db
    sql = ("SELECT s.code FROM samples s WHERE s.status = 'verified' AND NOT EXISTS "
           "(SELECT 1 FROM certificates c WHERE c.sample_id = s.id) ORDER BY s.id")  # fmt: skip
    server = Server(env, workers=2, threads=1).start()
    try:
        if len(rows(url, sql)) < 8:  # more verified samples: register, receive, enter
            fresh = _register_and_receive(server.port, world, world.tokens["technician"][0], 10)
            cookie = web_sign_in(server.port, "technician@example.org")
            for code in fresh:
                _save_results(server.port, cookie, code)
        _verify_everything(server.port)
        todo = [c for (c,) in rows(url, sql)]
        assert len(todo) >= 6, todo
        cookie = web_sign_in(server.port, "reviewer@example.org")
        issued_before = scalar(url, "SELECT count(*) FROM certificates")

        def issue_all(acknowledged: list) -> None:
            for code in todo:
                status = _issue(server.port, cookie, code)
                if status == 302:
                    acknowledged.append(code)

        acknowledged = _in_background(issue_all, len(todo))
        if target == "server":
            server.kill()
        else:
            for pid in server.worker_pids():
                os.kill(pid, signal.SIGKILL)  # gunicorn's master starts new workers
            time.sleep(1.0)
            server.stop()
    finally:
        server.stop()
    issued = {c for (c,) in rows(url, "SELECT s.code FROM certificates c JOIN samples s "
                                      "ON s.id = c.sample_id")}  # fmt: skip
    assert set(acknowledged) <= issued, "an acknowledged certificate was lost"
    with Server(env, workers=2, threads=2) as server:
        check_consistency(url, env, port=server.port)  # every certificate has its PDF
        cookie = web_sign_in(server.port, "reviewer@example.org")
        for code in [c for (c,) in rows(url, sql)]:
            assert _issue(server.port, cookie, code) == 302
        report = check_consistency(url, env, port=server.port)
    assert report["certificates"] >= issued_before + len(todo)
