"""Signing material shared by the PDF tests (tests/lims/signing_keys.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lims.signing_keys import LocalTsa, Pki, make_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def tsa(pki: Pki) -> Iterator[LocalTsa]:
    server = LocalTsa(pki)
    yield server
    server.close()
