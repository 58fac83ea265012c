"""Run a test in both storage modes: import ``app`` and ``storage_mode`` from here into a test
module (or a conftest) and parametrize ``storage_mode`` over :data:`MODES`. Without the
parametrization ``storage_mode`` is "directory", as in the shared ``app`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lims import create_app
from tests.conftest import _clean, base_config

MODES = ["database", "directory"]
both_modes = pytest.mark.parametrize("storage_mode", MODES)


@pytest.fixture
def storage_mode() -> str:
    return "directory"


def mode_config(storage_mode: str, folder: Path) -> dict[str, Any]:
    """Settings for a storage mode: STORAGE_DIR set (directory) or empty (database)."""
    return {"STORAGE_DIR": str(folder) if storage_mode == "directory" else ""}


@pytest.fixture
def app(database_url: str, tmp_path: Path, storage_mode: str) -> Iterator[Any]:
    app = create_app(base_config(database_url, **mode_config(storage_mode, tmp_path / "storage")))
    try:
        yield app
    finally:
        _clean(app)
