"""Layout rules from DESIGN.md: platform/ is a source root, never a package; a module becomes
a package before it passes ~400 lines."""

import platform
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_platform_dir_is_not_a_package():
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_import_platform_is_the_standard_library():
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert platform.python_version()  # the stdlib API, not our source root


MAX_MODULE_LINES = 400
SOURCES = ("platform", "engine", "domains", "benchmarks", "clients/python", "examples")


def test_modules_stay_under_400_lines():
    """Hand-written modules only: migrations and the generated OpenAPI client are left out."""
    long = {
        str(path.relative_to(ROOT)): n
        for top in SOURCES
        for path in (ROOT / top).rglob("*.py")
        if "migrations" not in path.parts and "_generated" not in path.parts
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }  # fmt: skip
    assert long == {}, "split these into smaller modules"
