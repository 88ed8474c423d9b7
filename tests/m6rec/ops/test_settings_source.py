"""One source of truth for settings: every setting the code reads is defined in
``settings/`` from the environment (never a ``getattr(settings, NAME, default)`` with a second
default elsewhere), and every ``M6REC_*`` setting of ``settings/base.py`` is documented in
docs/production.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PLATFORM = ROOT / "platform" / "m6rec"
SETTINGS = PLATFORM / "settings"


def _code_files():
    for path in PLATFORM.rglob("*.py"):
        if SETTINGS in path.parents or "migrations" in path.parts:
            continue
        yield path


def test_no_setting_has_a_second_default_outside_settings():
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _code_files()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"getattr\(\s*settings\s*,", line)
    ]
    assert offenders == [], "read settings.NAME and define NAME in settings/base.py: " + ", ".join(
        offenders
    )


def test_every_m6rec_setting_read_is_defined_in_settings():
    defined = set()
    for path in SETTINGS.glob("*.py"):
        defined |= set(re.findall(r"^\s*(M6REC_[A-Z0-9_]+)\s*=", path.read_text(), re.M))
    read = {
        name
        for path in _code_files()
        for name in re.findall(r"settings\.(M6REC_[A-Z0-9_]+)", path.read_text())
    }
    assert read - defined == set()


def test_every_base_setting_is_documented():
    base = (SETTINGS / "base.py").read_text()
    names = set(re.findall(r"^(M6REC_[A-Z0-9_]+)\s*=", base, re.M))
    doc = (ROOT / "docs" / "production.md").read_text()
    table = "\n".join(line for line in doc.splitlines() if line.startswith("| `"))
    assert sorted(n for n in names if f"`{n}`" not in table) == []
