"""Development sessions: generation, checks, tests, benchmarks, docs, fuzzing, the demo.

`nox` with no arguments runs what CI runs: check_generated, lint, typecheck and tests.
Tool versions are pinned in pyproject.toml's dependency groups.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["check_generated", "lint", "typecheck", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
REDOCLY = "@redocly/cli@2.77.0"
SPEC = "spec/openapi.yaml"
HANDWRITTEN = ["src", "tests", "benchmarks", "generator", "contract", "docs/examples", "noxfile.py"]
ALL_EXTRAS = ".[emulator,s3,cli]"


def _group(session: nox.Session, name: str) -> None:
    session.install(*nox.project.dependency_groups(PYPROJECT, name))


def _npx(session: nox.Session, *args: str) -> None:
    session.run("npx", "--yes", REDOCLY, *args, external=True)


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate generated/ark_batch_client from spec/ with the pinned generator."""
    _group(session, "generate")
    session.run("python", "-m", "generator.pipeline", "generate")


@nox.session
def check_generated(session: nox.Session) -> None:
    """Fail when generated/ differs from what spec + config + pinned generator produce."""
    _group(session, "generate")
    session.run("python", "-m", "generator.pipeline", "check")


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
    session.run("python", "-m", "openapi_spec_validator", SPEC)
    _npx(session, "lint", "--format=stylish", SPEC)


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
    # Inline the Redoc scripts: the page must work offline, not load them from a CDN.
    _npx(session, "build-docs", SPEC, "--inlineBundle", "--output", "site/index.html")
    session.log("API reference written to site/index.html")
