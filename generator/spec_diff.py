"""Report how spec/ changed since a git ref, and fail on a breaking change to a Version.

``python -m generator.spec_diff [REF]`` compares every document in spec/ with the
documents at REF (default: the last release tag, else the previous commit). api-smart-diff
(npm, pinned below) classifies each change; :func:`verdict` adds one rule of this project
(docs/decisions/0010) and decides. It prints a changelog section and exits 1 when a Version
that exists at REF changed in a way that breaks its clients, or disappeared. A new Version
document is never a breaking change: that is how an API makes one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ark_batch.spec import discover_documents

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec"
SCRIPT = Path(__file__).resolve().parent / "spec_diff.cjs"
TOOL = "api-smart-diff"
TOOL_VERSION = "1.0.6"
DEFAULT_TOOLS_DIR = ROOT / ".nox" / "spec_diff-node"
ACCEPTED = ROOT / "generator" / "spec_diff_accepted.toml"
#: Tags that mark a release; the newest reachable one is the default base.
RELEASE_TAG_GLOB = "v*"

BREAKING = "breaking"
ACCEPTED_BREAKING = "accepted"
_ACCEPT_KEYS = ("version", "change", "reason")


class SpecDiffError(RuntimeError):
    """The comparison could not run (git, npm or node failed, or a document is invalid)."""


@dataclass(frozen=True)
class Change:
    """One classified difference inside one Version."""

    kind: str  # breaking, non-breaking, deprecated, annotation, unclassified
    action: str  # add, remove, replace, rename
    description: str
    path: tuple[str | int, ...]

    @property
    def text(self) -> str:
        """``<action>: <description>``, as the changelog prints it."""
        description = self.description or "/".join(map(str, self.path[1:]))
        return f"{self.where}: {description}"

    @property
    def where(self) -> str:
        """The action the change is in (from ``/#Action=<Name>``), else the top-level key."""
        if len(self.path) > 1 and self.path[0] == "paths":
            return str(self.path[1]).rpartition("=")[2] or str(self.path[1])
        return str(self.path[0]) if self.path else "document"


@dataclass
class Report:
    """Every change between two sets of documents, by Version."""

    base: str
    changed: dict[str, list[Change]] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        """Whether a Version present at the base broke: a breaking change, or removal."""
        return bool(self.removed) or any(
            change.kind == BREAKING for changes in self.changed.values() for change in changes
        )


def _run(command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    except FileNotFoundError as exc:
        raise SpecDiffError(f"{command[0]} is not installed") from exc


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return _run(["git", *args], cwd=ROOT)


def default_base() -> str | None:
    """The last release tag, else the previous commit; None on a repository's first commit."""
    tag = _git("describe", "--tags", "--abbrev=0", "--match", RELEASE_TAG_GLOB, "HEAD")
    if tag.returncode == 0 and tag.stdout.strip():
        return tag.stdout.strip()
    if _git("rev-parse", "--verify", "--quiet", "HEAD~1^{commit}").returncode == 0:
        return "HEAD~1"
    shallow = _git("rev-parse", "--is-shallow-repository").stdout.strip()
    if shallow == "true":
        raise SpecDiffError(
            "the clone is shallow: fetch the history (git fetch --unshallow) or name a REF"
        )
    return None


def documents_at(ref: str, spec_dir: Path = SPEC_DIR) -> dict[str, dict[str, Any]]:
    """The OpenAPI documents in ``spec_dir`` at git ``ref``, by Version."""
    if ref.startswith("-") or (
        _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0
    ):
        raise SpecDiffError(f"{ref} is not a commit of this repository")
    relative = spec_dir.relative_to(ROOT).as_posix()
    listing = _git("ls-tree", "--name-only", f"{ref}:{relative}")
    if listing.returncode != 0:
        return {}  # spec/ did not exist yet: every Version is new
    documents: dict[str, dict[str, Any]] = {}
    for name in listing.stdout.splitlines():
        if not name.endswith((".yaml", ".yml", ".json")):
            continue
        blob = _git("show", f"{ref}:{relative}/{name}")
        if blob.returncode != 0:
            raise SpecDiffError(f"cannot read {relative}/{name} at {ref}")
        try:
            document = yaml.safe_load(blob.stdout)
            if isinstance(document, dict) and "openapi" in document:
                documents[str(document["info"]["version"])] = document
        except (yaml.YAMLError, KeyError, TypeError) as exc:
            raise SpecDiffError(f"{relative}/{name} at {ref} has no readable info.version") from exc
    return documents


def current_documents(spec_dir: Path = SPEC_DIR) -> dict[str, dict[str, Any]]:
    """The documents in ``spec_dir`` now, by Version."""
    try:
        found = discover_documents([spec_dir])
    except (OSError, ValueError) as exc:
        raise SpecDiffError(str(exc)) from exc
    return {version: dict(doc.document) for version, doc in found.items()}


def install_tool(tools_dir: Path = DEFAULT_TOOLS_DIR) -> Path:
    """Install the pinned api-smart-diff under ``tools_dir`` (once); return its node_modules."""
    modules = tools_dir / "node_modules"
    manifest = modules / TOOL / "package.json"
    if manifest.is_file() and json.loads(manifest.read_text())["version"] == TOOL_VERSION:
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise SpecDiffError("npm is not installed; spec_diff needs Node.js")
    tools_dir.mkdir(parents=True, exist_ok=True)
    result = _run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(tools_dir),
         f"{TOOL}@{TOOL_VERSION}"]
    )  # fmt: skip
    if result.returncode != 0:
        raise SpecDiffError(f"npm install {TOOL}@{TOOL_VERSION} failed:\n{result.stderr}")
    return modules


def classify(
    before: Mapping[str, Any], after: Mapping[str, Any], node_modules: Path
) -> list[Change]:
    """api-smart-diff's classification of every change from ``before`` to ``after``."""
    node = shutil.which("node")
    if node is None:
        raise SpecDiffError("node is not installed; spec_diff needs Node.js")
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, document in (("before.json", before), ("after.json", after)):
            path = Path(tmp) / name
            path.write_text(json.dumps(document), encoding="utf-8")
            paths.append(str(path))
        env = {**os.environ, "NODE_PATH": str(node_modules)}
        result = _run([node, str(SCRIPT), *paths], env=env)
    if result.returncode != 0:
        raise SpecDiffError(f"{TOOL} failed:\n{result.stderr[-2000:]}")
    return [
        Change(item["type"], item["action"], item["description"], tuple(item["path"]))
        for item in json.loads(result.stdout)
    ]


def _removes_a_response_property(change: Change) -> bool:
    path = change.path
    return change.action == "remove" and "responses" in path and path[-2:-1] == ("properties",)


def accepted_changes(path: Path = ACCEPTED) -> set[tuple[str, str]]:
    """(Version, change text) of every breaking change accepted on purpose."""
    problem = f"{path.name}: each [[accepted]] needs a version, a change and a reason"
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("accepted", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecDiffError(f"{problem} ({exc})") from exc
    if not isinstance(entries, list):
        raise SpecDiffError(problem)
    found: set[tuple[str, str]] = set()
    for entry in entries:
        values = [entry.get(key) if isinstance(entry, dict) else None for key in _ACCEPT_KEYS]
        if not all(isinstance(value, str) and value.strip() for value in values):
            raise SpecDiffError(problem)
        found.add((str(values[0]), str(values[1])))
    return found


def verdict(
    change: Change, version: str = "", accepted: AbstractSet[tuple[str, str]] = frozenset()
) -> Change:
    """The project's classification: the tool's, plus two rules (decision 0010).

    Removing a response property is breaking even when it was optional: the wire stays
    valid, but the regenerated models lose the attribute that users' code reads. A
    breaking change listed in ``generator/spec_diff_accepted.toml`` is accepted.
    """
    if change.kind != BREAKING and _removes_a_response_property(change):
        described = change.description + " (the generated models lose it)"
        change = Change(BREAKING, change.action, described, change.path)
    if change.kind == BREAKING and (version, change.text) in accepted:
        change = Change(ACCEPTED_BREAKING, change.action, change.description, change.path)
    return change


def _reported(change: Change) -> bool:
    # A change inside components/ is reported again, with a description, at each
    # operation that uses it; keep one only if it breaks something on its own.
    return change.path[:1] != ("components",) or change.kind == BREAKING


def compare(
    base: str,
    before: Mapping[str, Mapping[str, Any]],
    after: Mapping[str, Mapping[str, Any]],
    node_modules: Path,
    accepted: AbstractSet[tuple[str, str]] | None = None,
) -> Report:
    """Compare two sets of documents Version by Version."""
    accepted = accepted_changes() if accepted is None else accepted
    report = Report(base)
    for version in sorted(after):
        if version not in before:
            report.added.append(version)
            continue
        found = classify(before[version], after[version], node_modules)
        changes = [verdict(c, version, accepted) for c in found if _reported(c)]
        if changes:
            report.changed[version] = changes
    report.removed = sorted(set(before) - set(after))
    return report


_SECTIONS = (
    ("breaking", "Breaking"),
    ("accepted", "Breaking, accepted (generator/spec_diff_accepted.toml)"),
    ("deprecated", "Deprecated"),
    ("non-breaking", "Changed"),
    ("unclassified", "Unclassified (review by hand)"),
)


def changelog(report: Report, after: Mapping[str, Mapping[str, Any]]) -> str:
    """A Markdown changelog section for ``report``."""
    lines = [f"### API (spec/ since {report.base})", ""]
    if not (report.changed or report.added or report.removed):
        lines.append("- No change to any API Version.")
    for version in report.added:
        actions = sorted(
            op["operationId"]
            for item in after[version].get("paths", {}).values()
            for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        )
        lines.append(f"- **Added** Version {version}: {', '.join(actions)}.")
    for version in report.removed:
        lines.append(f"- **Breaking**: Version {version} is no longer served.")
    for version, changes in report.changed.items():
        lines += (
            ["", f"#### Version {version}", ""] if lines[-1] else [f"#### Version {version}", ""]
        )
        for kind, title in _SECTIONS:
            picked = sorted({c.text for c in changes if c.kind == kind})
            lines += [f"- **{title}**: {text}" for text in picked]
        notes = sum(1 for c in changes if c.kind == "annotation")
        if notes:
            lines.append(f"- {notes} documentation change{'s' if notes != 1 else ''}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.spec_diff")
    parser.add_argument("ref", nargs="?", help="git ref to compare with (default: last tag)")
    parser.add_argument("--tools-dir", type=Path, default=DEFAULT_TOOLS_DIR)
    args = parser.parse_args(argv)
    try:
        base = args.ref or default_base()
        if base is None:
            print("spec_diff: the first commit has no earlier spec to compare with.")
            return 0
        before = documents_at(base)
        after = current_documents()
        report = compare(base, before, after, install_tool(args.tools_dir))
    except SpecDiffError as exc:
        print(f"spec_diff: {exc}", file=sys.stderr)
        return 2
    print(changelog(report, after))
    if report.breaking:
        print(
            "spec_diff: a breaking change to an existing Version. Put it in a new Version "
            "document instead (docs/versioning.md).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
