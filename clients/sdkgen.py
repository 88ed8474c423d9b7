"""Regenerate the SDKs from the API's OpenAPI schema (``make sdk``), or check them for drift.

What it writes (all checked into the repository):

* ``clients/openapi.json``: the schema, as ``/api/schema/`` serves it (``manage.py spectacular``);
* ``clients/python/m6rec_client/_generated/``: ``openapi-python-client`` (version pinned in
  ``clients/python/generator-requirements.txt``, installed into ``var/sdk-tools``, never into
  the project's environment);
* ``clients/typescript/src/schema.ts``: ``openapi-typescript`` (pinned in the package's
  ``package-lock.json``; ``npm ci`` runs when ``node_modules`` is missing).

``--check`` generates everything into a temporary directory from the live code and exits 1,
naming the files that differ, when the checked-in copies are stale: the fix is ``make sdk``.

    python clients/sdkgen.py                  # regenerate (make sdk)
    python clients/sdkgen.py --check          # fail on drift
    python clients/sdkgen.py --check --only schema python
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "clients"
TOOLS = ROOT / "var" / "sdk-tools"
PY_REQUIREMENTS = CLIENTS / "python" / "generator-requirements.txt"
PY_CONFIG = CLIENTS / "python" / "generator-config.yaml"
TS_DIR = CLIENTS / "typescript"

SCHEMA = Path("clients/openapi.json")
PY_OUT = Path("clients/python/m6rec_client/_generated")
TS_OUT = Path("clients/typescript/src/schema.ts")
PARTS = ("schema", "python", "typescript")


def _run(cmd: list[str], *, cwd: Path = ROOT, env: dict | None = None) -> None:
    result = subprocess.run(
        cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def write_schema(root: Path) -> Path:
    """The schema as JSON, exactly as ``manage.py spectacular`` writes it."""
    out = root / SCHEMA
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--format",
            "openapi-json",
            "--validate",
            "--file",
            str(out),
        ],
        env={"DJANGO_SETTINGS_MODULE": os.environ.get("M6REC_SDK_SETTINGS", "m6rec.settings.test")},
    )
    return out


def generator_tools() -> Path:
    """``var/sdk-tools``: a virtualenv with the pinned generator, (re)built when the pins
    change."""
    wanted = PY_REQUIREMENTS.read_text()
    stamp = TOOLS / ".requirements"
    if not (stamp.exists() and stamp.read_text() == wanted):
        shutil.rmtree(TOOLS, ignore_errors=True)
        venv.EnvBuilder(with_pip=True).create(TOOLS)
        _run(
            [
                str(TOOLS / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                str(PY_REQUIREMENTS),
            ]
        )
        stamp.write_text(wanted)
    return TOOLS / "bin"


def write_python(root: Path, schema: Path) -> Path:
    out = root / PY_OUT
    tools = generator_tools()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "_generated"
        _run(
            [
                str(tools / "openapi-python-client"),
                "generate",
                "--path",
                str(schema),
                "--meta",
                "none",
                "--output-path",
                str(target),
                "--config",
                str(PY_CONFIG),
            ],
            cwd=Path(tmp),
            env={"PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},
        )
        shutil.rmtree(out, ignore_errors=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(target, out, ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache"))
    return out


def write_typescript(root: Path, schema: Path) -> Path:
    out = root / TS_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    if not (TS_DIR / "node_modules" / ".bin" / "openapi-typescript").exists():
        _run(["npm", "ci", "--no-audit", "--no-fund"], cwd=TS_DIR)
    _run(
        [str(TS_DIR / "node_modules" / ".bin" / "openapi-typescript"), str(schema), "-o", str(out)],
        cwd=TS_DIR,
    )
    return out


def generate(root: Path, parts: tuple[str, ...]) -> None:
    schema = write_schema(root)
    if "python" in parts:
        write_python(root, schema)
    if "typescript" in parts:
        write_typescript(root, schema)


def _files(base: Path) -> dict[str, Path]:
    if base.is_file():
        return {base.name: base}
    return {
        str(p.relative_to(base)): p
        for p in sorted(base.rglob("*"))
        if p.is_file() and not {"__pycache__", ".ruff_cache"} & set(p.parts)
    }


def drift(fresh_root: Path, parts: tuple[str, ...]) -> list[str]:
    """The differences between the checked-in outputs and those generated under
    ``fresh_root``, as unified-diff snippets (empty: no drift)."""
    outputs = {"schema": SCHEMA, "python": PY_OUT, "typescript": TS_OUT}
    problems = []
    for part in parts:
        fresh, stored = _files(fresh_root / outputs[part]), _files(ROOT / outputs[part])
        for name in sorted(set(fresh) | set(stored)):
            where = outputs[part] / name if len(fresh) > 1 or len(stored) > 1 else outputs[part]
            if name not in stored:
                problems.append(f"{where}: missing from the repository")
            elif name not in fresh:
                problems.append(f"{where}: no longer generated")
            else:
                a, b = stored[name].read_text(), fresh[name].read_text()
                if a != b:
                    diff = difflib.unified_diff(
                        a.splitlines(), b.splitlines(), "checked-in", "generated", lineterm="", n=1
                    )
                    problems.append(f"{where}:\n" + "\n".join(list(diff)[:40]))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail (exit 1) on drift")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    args = parser.parse_args(argv)
    parts = tuple(args.only)
    if not args.check:
        generate(ROOT, parts)
        print("regenerated:", ", ".join(parts))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), parts)
        problems = drift(Path(tmp), parts)
    if problems:
        print("\n\n".join(problems))
        print(
            "\nThe SDKs are out of date with the API schema: run `make sdk` and commit the result."
        )
        return 1
    print("SDKs up to date:", ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
