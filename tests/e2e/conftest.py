"""Browser tests: Playwright driving the system Chromium against a live server on 127.0.0.1.

Without Chromium they skip with a reason, unless LIMS_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("LIMS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def _browser_missing_reason() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _browser_missing_reason()
    if reason:
        if os.environ.get("LIMS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required (LIMS_REQUIRE_BROWSER=1) but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        safe = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        try:
            page.screenshot(path=str(ARTIFACTS / f"{safe}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the test's result
            pass
        context.close()


@pytest.fixture
def journey_artifacts(request: pytest.FixtureRequest) -> Path:
    """An empty directory for the journey's screenshots: ``$LIMS_JOURNEY_ARTIFACTS`` (default
    ``test-artifacts/journey`` at the repository root, git-ignored), one sub-directory per
    database backend."""
    root = Path(os.environ.get("LIMS_JOURNEY_ARTIFACTS") or ARTIFACTS / "journey")
    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("database_url", "sqlite") if callspec else "sqlite"
    directory = root / str(backend)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.png"):
        old.unlink()
    return directory


ENTRIES_LABEL = "Mục trong sổ không đạt (mẫu có phiếu kết quả còn hiệu lực)"


def pick_entry(page: Any, typed: str, text: str | None = None) -> None:
    """Choose a register entry in the warning form's picker: type ``typed`` into its filter,
    click the (first) match containing ``text`` (default: ``typed``), see it become a chip."""
    page.locator("#entries-filter").wait_for()  # the script has made the picker
    box = page.get_by_label(ENTRIES_LABEL)
    box.fill(typed)
    option = page.locator("#entries-options button", has_text=text or typed).first
    value = option.get_attribute("data-value")
    option.click()
    page.locator(f"#entries-chips [data-value='{value}']").wait_for()
