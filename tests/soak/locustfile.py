"""The soak load mix (locust, headless, 127.0.0.1 only; started by tests/soak/test_load.py).

Technicians register samples through the API, receive them and enter their results on the
results page; one reviewer verifies entered results; agencies read and download certificates
through the pages and the API; the public reads warnings, bulletins and the Atom feed.
Every write the server acknowledged is written to ``LIMS_SOAK_LEDGER`` at the end, so the test
can count it in the database. Any status other than the expected one is a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
from pathlib import Path

from locust import HttpUser, between, events, task

WORLD = json.loads(Path(os.environ["LIMS_SOAK_WORLD"]).read_text(encoding="utf-8"))
LEDGER: dict[str, list] = {
    "registered": [], "received": [], "results": [], "verified": [], "refused": [],
}  # fmt: skip
LOCK = threading.Lock()
TOKENS = {role: itertools.cycle(tokens) for role, tokens in WORLD["tokens"].items()}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
VALUE_INPUT = re.compile(r'name="value-(\d+)" id="value-\d+" value=""')
VERIFIABLE = re.compile(r'name="result_ids" value="(\d+)" aria-label="[^"]*">')
SEEN = re.compile(r'name="(seen-\d+)" value="(\d+)"')  # the version each result was shown at
VERIFIED = "Đã xác nhận"  # the flash of a verification that went through ("… kết quả.")
DANGER = re.compile(r'class="alert alert-danger[^"]*"[^>]*>\s*(.*?)\s*<', re.S)


def note(kind: str, value: object) -> None:
    with LOCK:
        LEDGER[kind].append(value)


@events.quitting.add_listener
def _write_ledger(environment, **_kw) -> None:
    with open(os.environ["LIMS_SOAK_LEDGER"], "w", encoding="utf-8") as fh:
        json.dump(LEDGER, fh)


class LimsUser(HttpUser):
    abstract = True
    email = ""
    password = ""

    def on_start(self) -> None:
        self.cookie = ""
        if self.email:
            page = self.call("GET", "/login", name="login page")
            self.call(
                "POST",
                "/login",
                name="sign in",
                expect=302,
                data={
                    "csrf_token": self.csrf(page),
                    "email": self.email,
                    "password": self.password,
                },  # fmt: skip
            )

    def csrf(self, text: str) -> str:
        match = CSRF.search(text)
        return match.group(1) if match else ""

    def call(self, method: str, path: str, *, name: str, expect: int = 200, **kw) -> str:
        """One request; a status other than ``expect`` is a failure. Keeps the session cookie
        by hand (production cookies are Secure; this is plain HTTP on 127.0.0.1)."""
        headers = kw.pop("headers", {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        with self.client.request(
            method, path, name=name, headers=headers, allow_redirects=False,
            catch_response=True, **kw,
        ) as response:  # fmt: skip
            self.location = response.headers.get("Location", "")
            found = re.search(r"session=([^;]+)", response.headers.get("Set-Cookie", ""))
            if found:
                self.cookie = f"session={found.group(1)}"
            if response.status_code != expect:
                response.failure(f"{response.status_code} (expected {expect})")
                return ""
            response.success()
            return response.text


class Technician(LimsUser):
    weight = 3
    wait_time = between(0.5, 1.5)
    email, password = "technician@example.org", "technician-demo-2026"

    def on_start(self) -> None:
        super().on_start()
        self.token = next(TOKENS["technician"])
        self.mine: list[str] = []

    @task(2)
    def register_receive_enter(self) -> None:
        body = {
            "campaign_id": WORLD["campaign_id"],
            "category_id": WORLD["category_id"],
            "business_id": WORLD["business_id"],
            "product_name": "Nước mắm cá cơm – mẫu tải",
            "brand": "Hòn Khói",
            "batch": f"SOAK-{random.randrange(10**6)}",
            "quantity": "2",
            "quantity_unit": "chai 500 ml",
            "sampled_at": "05/11/2026 09:30",
            "sampled_by": "Nguyễn Thị Thu Hà",
            "parameter_ids": WORLD["parameter_ids"],
        }
        headers = {"Authorization": f"Bearer {self.token}"}
        text = self.call("POST", "/api/v1/samples", name="API register sample", expect=201,
                         json=body, headers=headers)  # fmt: skip
        if not text:
            return
        code = json.loads(text)["code"]
        note("registered", code)
        page = self.call("GET", f"/intake/samples/{code}", name="sample page")
        form = {"csrf_token": self.csrf(page), "rcv-condition": "Nguyên vẹn, niêm phong tốt",
                "rcv-storage_location": "Tủ mát 2", "rcv-received_at": ""}  # fmt: skip
        if self.call("POST", f"/intake/samples/{code}/receive", name="receive sample",
                     expect=302, data=form) == "":  # fmt: skip
            return
        note("received", code)
        page = self.call("GET", f"/testing/samples/{code}", name="results page")
        tids = VALUE_INPUT.findall(page)
        form = {"csrf_token": self.csrf(page)}
        for tid in tids:
            form[f"value-{tid}"] = f"{random.randint(1, 30)},{random.randint(0, 9)}"
            form[f"orig-value-{tid}"] = ""
            form[f"version-{tid}"] = "0"
        if tids and self.call("POST", f"/testing/samples/{code}", name="save results",
                              expect=302, data=form) != "":  # fmt: skip
            note("results", [code, len(tids)])

    @task(1)
    def browse(self) -> None:
        self.call("GET", "/intake/samples", name="sample list")
        self.call("GET", "/testing/worksheet", name="worksheet")


class Reviewer(LimsUser):
    fixed_count = 1
    wait_time = between(1, 2)
    email, password = "reviewer@example.org", "reviewer-demo-2026"

    @task
    def verify(self) -> None:
        page = self.call("GET", "/testing/verify", name="verify queue")
        ids = VERIFIABLE.findall(page)[:5]
        if not ids:
            return
        form = {"csrf_token": self.csrf(page), "result_ids": ids, **dict(SEEN.findall(page))}
        if self.call("POST", "/testing/verify", name="verify results", expect=302,
                     data=form) == "":  # fmt: skip
            return
        # The page redirected to says whether the batch went through: a refusal (a result
        # changed since the page was read, …) is the lab's rule working, not a verification.
        after = self.call("GET", self.location or "/testing/verify", name="verify outcome")
        if VERIFIED in after:
            note("verified", [int(i) for i in ids])
        else:
            note("refused", DANGER.findall(after)[:1] or [after[:200]])


class Agency(LimsUser):
    weight = 2
    wait_time = between(1, 2)
    email, password = "agency@example.org", "agency-demo-2026"

    def on_start(self) -> None:
        super().on_start()
        self.token = next(TOKENS["agency"])

    @task
    def certificates(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        text = self.call("GET", "/api/v1/certificates?limit=20", name="API certificates",
                         headers=headers)  # fmt: skip
        items = json.loads(text)["items"] if text else []
        if items:
            number = random.choice(items)["number"]
            self.call("GET", f"/api/v1/certificates/{number}.pdf", name="API certificate PDF",
                      headers=dict(headers))  # fmt: skip
            self.call("GET", f"/certificates/{number}", name="certificate page")
            self.call("GET", f"/certificates/{number}/pdf", name="certificate PDF")
        self.call("GET", "/certificates/", name="certificate list")


class Public(LimsUser):
    weight = 3
    wait_time = between(0.5, 1.5)

    @task(3)
    def warnings(self) -> None:
        page = self.call("GET", "/public/warnings", name="public warnings")
        ids = re.findall(r'href="/public/warnings/(\d+)"', page)
        if ids:
            self.call("GET", f"/public/warnings/{random.choice(ids)}", name="public warning")

    @task(1)
    def feed(self) -> None:
        self.call("GET", "/public/feed.atom", name="public feed")
        self.call("GET", "/public/bulletins", name="public bulletins")
