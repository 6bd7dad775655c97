"""Regenerate ``generated/ark_batch_client`` from the spec, and detect drift.

``python -m generator.pipeline generate`` rewrites the committed package;
``python -m generator.pipeline check`` regenerates into a temporary directory and fails
when the committed package differs from what spec + config + the pinned generator produce.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"
CONFIG = ROOT / "generator" / "config.yaml"
TEMPLATES = ROOT / "generator" / "templates"
PACKAGE = "ark_batch_client"
TARGET = ROOT / "generated" / PACKAGE
GENERATOR_VERSION = "0.29.1"


class PipelineError(RuntimeError):
    """The generator could not run, or its output differs from the committed package."""


def _tool(name: str) -> str:
    """Find a console script next to this interpreter first, so nox's venv wins over PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise PipelineError(f"{name} is not installed (install the 'generate' dependency group)")
    return found


def check_generator_version() -> None:
    """Refuse to generate with any generator but the pinned one: output depends on it."""
    try:
        installed = metadata.version("openapi-python-client")
    except metadata.PackageNotFoundError as exc:
        raise PipelineError("openapi-python-client is not installed") from exc
    if installed != GENERATOR_VERSION:
        raise PipelineError(
            f"openapi-python-client {installed} is installed; the pinned version is "
            f"{GENERATOR_VERSION}"
        )


def generate(dest_parent: Path, spec: Path = SPEC, config: Path = CONFIG) -> Path:
    """Generate the client package into ``dest_parent/ark_batch_client`` and return its path."""
    check_generator_version()
    out = dest_parent / PACKAGE
    if out.exists():
        shutil.rmtree(out)
    env = dict(os.environ)
    # The post-hooks call ruff by name; make the venv's ruff the one they find.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    command = [
        _tool("openapi-python-client"),
        "generate",
        "--path",
        str(spec),
        "--config",
        str(config),
        "--meta",
        "none",
        "--output-path",
        str(out),
        "--fail-on-warning",
        "--custom-template-path",
        str(TEMPLATES),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PipelineError(f"generation failed:\n{result.stdout}\n{result.stderr}")
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def compare(expected: Path, actual: Path, max_diff_lines: int = 200) -> list[str]:
    """Describe every difference between two package trees; empty when identical."""
    want, have = _files(expected), _files(actual)
    problems: list[str] = []
    for name in sorted(want.keys() - have.keys()):
        problems.append(f"missing: {name}")
    for name in sorted(have.keys() - want.keys()):
        problems.append(f"unexpected: {name}")
    for name in sorted(want.keys() & have.keys()):
        if want[name] != have[name]:
            diff = difflib.unified_diff(
                have[name].decode(errors="replace").splitlines(),
                want[name].decode(errors="replace").splitlines(),
                f"committed/{name}",
                f"regenerated/{name}",
                lineterm="",
            )
            problems.append(f"differs: {name}\n" + "\n".join(list(diff)[:max_diff_lines]))
    return problems


def regenerate() -> None:
    """Replace the committed package with a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        if TARGET.exists():
            shutil.rmtree(TARGET)
        shutil.copytree(fresh, TARGET)


def check() -> list[str]:
    """Regenerate into a temporary directory and compare with the committed package."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        return compare(fresh, TARGET)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.pipeline")
    parser.add_argument("command", choices=["generate", "check"])
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            regenerate()
            print(f"regenerated {TARGET.relative_to(ROOT)}")
            return 0
        problems = check()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if problems:
        print(
            f"{TARGET.relative_to(ROOT)} is stale: run `nox -s generate` and commit.",
            file=sys.stderr,
        )
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"{TARGET.relative_to(ROOT)} matches spec + config + generator {GENERATOR_VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
