"""Every user-facing string is in the catalogue, and both languages are complete."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "lims" / "translations"


def _ids(catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def _read_po(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def _read_mo(path: Path):
    with path.open("rb") as handle:
        return read_mo(handle)


def _key(value: str | list | tuple) -> str | tuple:
    """A message id or string, hashable: plural forms (lists or tuples) as a tuple."""
    return value if isinstance(value, str) else tuple(value)


def test_catalogue_template_is_up_to_date(tmp_path):
    out = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(out),
            "--omit-header",
            "lims",
            "templates",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    fresh = _ids(_read_po(out))
    committed = _ids(_read_po(TRANSLATIONS / "messages.pot"))
    assert fresh == committed, (
        f"run `make translations`: new {sorted(fresh - committed)[:10]}, "
        f"gone {sorted(committed - fresh)[:10]}"
    )


def test_vietnamese_translations_are_complete_and_compiled():
    template = _ids(_read_po(TRANSLATIONS / "messages.pot"))
    po = _read_po(TRANSLATIONS / "vi/LC_MESSAGES/messages.po")
    untranslated = [m.id for m in po if m.id and (not m.string or m.fuzzy)]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert template <= _ids(po)
    mo = _read_mo(TRANSLATIONS / "vi/LC_MESSAGES/messages.mo")
    compiled = {_key(m.id): _key(m.string) for m in mo if m.id}
    for message in po:
        if message.id:
            assert compiled.get(_key(message.id)) == _key(message.string), (
                f"stale .mo for {message.id!r}"
            )


def test_english_catalogue_covers_every_string():
    template = _ids(_read_po(TRANSLATIONS / "messages.pot"))
    assert template <= _ids(_read_po(TRANSLATIONS / "en/LC_MESSAGES/messages.po"))
