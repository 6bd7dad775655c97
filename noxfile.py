"""Development sessions: generation, checks, tests, benchmarks, docs, fuzzing, the demo.

`nox` with no arguments runs what CI runs: check_generated, spec_diff, lint, typecheck
and tests.
Tool versions are pinned in pyproject.toml's dependency groups.
"""

from __future__ import annotations

import glob

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["check_generated", "spec_diff", "lint", "typecheck", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
REDOCLY = "@redocly/cli@2.77.0"  # also pinned in generator/reference_site.py
#: Every OpenAPI document, one per API Version (docs/decisions/0008).
SPEC_DOCUMENTS = sorted(p for ext in ("yaml", "yml", "json") for p in glob.glob(f"spec/*.{ext}"))
HANDWRITTEN = ["src", "tests", "benchmarks", "generator", "contract", "docs/examples", "noxfile.py"]
ALL_EXTRAS = ".[emulator,s3,cli]"


def _group(session: nox.Session, name: str) -> None:
    session.install(*nox.project.dependency_groups(PYPROJECT, name))


def _npx(session: nox.Session, *args: str) -> None:
    session.run("npx", "--yes", REDOCLY, *args, external=True)


def _pipeline(session: nox.Session, command: str) -> None:
    # The pipeline finds the documents in spec/ with ark_batch.spec (PyYAML).
    session.install("-e", ".[emulator]")
    _group(session, "generate")
    session.run("python", "-m", "generator.pipeline", command)


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate generated/ark_batch_client from spec/ with the pinned generator."""
    _pipeline(session, "generate")


@nox.session
def check_generated(session: nox.Session) -> None:
    """Fail when generated/ differs from what spec + config + pinned generator produce."""
    _pipeline(session, "check")


@nox.session
def spec_diff(session: nox.Session) -> None:
    """Changelog of spec/ since REF (last release tag, else HEAD~1); fails on a break."""
    session.install("-e", ".[emulator]")
    node_tools = f"{session.virtualenv.location}/node"
    session.run("python", "-m", "generator.spec_diff", "--tools-dir", node_tools, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over all code, and the spec through openapi-spec-validator and Redocly."""
    _group(session, "lint")
    session.run("ruff", "check", *HANDWRITTEN)
    session.run("ruff", "format", "--check", *HANDWRITTEN)
    # Generated code is held to the generator's own style (its post-hooks run ruff
    # --isolated); only its long docstring lines are let through.
    session.run(
        "ruff", "check", "--isolated", "--no-cache", "--select", "E,F,I,UP,W",
        "--ignore", "E501", "generated",
    )  # fmt: skip
    session.run("ruff", "format", "--check", "--isolated", "--no-cache", "generated")
    for document in SPEC_DOCUMENTS:
        session.run("python", "-m", "openapi_spec_validator", document)
    _npx(session, "lint", "--format=stylish", *SPEC_DOCUMENTS)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over generated and handwritten code."""
    session.install("-e", ALL_EXTRAS)
    _group(session, "typecheck")
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """The pytest suite, including in-process schemathesis runs against the emulator."""
    session.install("-e", ALL_EXTRAS)
    _group(session, "test")
    session.run("pytest", *session.posargs)


@nox.session
def faults(session: nox.Session) -> None:
    """The fault suite: kill -9, read-only and full disks, FIFO input, malformed HTTP.

    Faults the machine cannot produce (no tmpfs mount, no unprivileged user) are skipped
    with the reason; `tests` runs the suite too.
    """
    session.install("-e", ALL_EXTRAS)
    _group(session, "test")
    session.run("pytest", "-m", "faults", "-rs", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the official SDK, measured side by side in one run."""
    session.install("-e", ALL_EXTRAS)
    _group(session, "bench")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """schemathesis CLI over the spec, signed: a fresh emulator, or `-- --url URL`."""
    session.install("-e", ALL_EXTRAS)
    _group(session, "fuzz")
    session.run("python", "-m", "contract.fuzz", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: an embedded emulator and a real batch job through the signed client."""
    session.install(".[emulator]")
    session.run("python", "-m", "ark_batch.demo", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Render the static HTML API reference from the spec into site/index.html."""
    # The page must work offline: Redoc's scripts inlined, its CDN assets replaced.
    session.run("python", "-m", "generator.reference_site", "site/index.html")
