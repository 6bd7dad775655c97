"""No API fact is written a second time in src/: phases, Versions and action names.

Every string literal in ``src/`` that equals a phase, a Version or an action name of any
document in ``spec/`` must be in one of the places listed in :data:`ALLOWED`, each of
which a decision record names. Everything else reads these facts from the spec
(``ark_batch.spec``) or from the generated client (``ark_batch._api``). A dict key that
equals a phase is a JSON member name, not a phase: ``RequestCounts`` has members
``Completed`` and ``Failed``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from ark_batch.spec import default_registry

SRC = Path(__file__).parent.parent / "src" / "ark_batch"

#: path under src/ark_batch -> the literals it may hold, and the decision that says why.
ALLOWED: dict[str, tuple[frozenset[str], str]] = {
    # Which phases end a job, and which of them are failures (decision 0013).
    "_api.py": (frozenset({"Completed", "Failed", "Terminated"}), "0013"),
    # The emulator's phase semantics: start, active, ended, per-action phases (0024).
    "emulator/phases.py": (
        frozenset({"Queued", "Running", "Completed", "Failed", "Terminating", "Terminated"}),
        "0024",
    ),
    # FIELD_PATHS: the RequestCounts members Completed and Failed (decision 0015).
    "emulator/job.py": (frozenset({"Completed", "Failed"}), "0015"),
    # The job table's heading for the failed-request count.
    "cli/output.py": (frozenset({"Failed"}), "0024"),
    # The emulator binds a handler to each action it implements, by name (decision 0024).
    "emulator/backend.py": (
        frozenset({"CreateBatchInferenceJob", "GetBatchInferenceJob", "ListBatchInferenceJobs"}),
        "0024",
    ),
    "emulator/lifecycle.py": (
        frozenset(
            {
                "StopBatchInferenceJob",
                "ResumeBatchInferenceJob",
                "UpdateBatchInferenceJob",
                "DeleteBatchInferenceJob",
            }
        ),
        "0024",
    ),
}


def api_facts() -> tuple[frozenset[str], frozenset[str]]:
    """The phases, and every phase, Version and action name, of the documents in spec/."""
    registry = default_registry()
    phases: set[str] = set()
    facts: set[str] = set()
    for version in registry.versions:
        document = registry.document(version)
        phases.update(document.document["components"]["schemas"]["JobPhase"]["enum"])
        facts.add(version)
        facts.update(document.operations)
    return frozenset(phases), frozenset(facts | phases)


def restated(
    tree: ast.AST, facts: frozenset[str], member_names: frozenset[str] = frozenset()
) -> Iterator[tuple[int, str]]:
    """``(line, literal)`` for each string constant in ``tree`` that is one of ``facts``.

    A dict key in ``member_names`` is not counted.
    """
    keys = {id(key) for node in ast.walk(tree) if isinstance(node, ast.Dict) for key in node.keys}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in facts
            and not (id(node) in keys and node.value in member_names)
        ):
            yield node.lineno, node.value


def test_no_phase_version_or_action_literal_outside_the_allowed_places() -> None:
    phases, facts = api_facts()
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        allowed = ALLOWED.get(relative, (frozenset(), ""))[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            f"src/ark_batch/{relative}:{line}: {literal!r}"
            for line, literal in restated(tree, facts, phases)
            if literal not in allowed
        ]
    assert not found, "API facts restated instead of derived:\n" + "\n".join(found)


def test_every_allowed_literal_is_still_an_api_fact_and_still_used() -> None:
    phases, facts = api_facts()
    for relative, (allowed, decision) in ALLOWED.items():
        assert allowed <= facts, f"{relative}: {sorted(allowed - facts)} left the spec"
        tree = ast.parse((SRC / relative).read_text(encoding="utf-8"))
        used = {literal for _, literal in restated(tree, facts, phases)}
        assert used == allowed, f"{relative}: allowlist {sorted(allowed - used)} is stale"
        record = list((SRC.parent.parent / "docs" / "decisions").glob(f"{decision}-*.md"))
        assert record, f"{relative}: decision {decision} does not exist"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('TERMINAL = ("Completed", "Failed")', [(1, "Completed"), (1, "Failed")]),
        ('if phase == "Queued": pass', [(1, "Queued")]),
        ('URL = "/?Version=" + "2024-01-01"', [(1, "2024-01-01")]),
        ('COUNTS = {"Completed": 0}', []),
        ('HANDLERS = {"GetBatchInferenceJob": get}', [(1, "GetBatchInferenceJob")]),
        ('MESSAGE = "The job is Queued."', []),
    ],
)
def test_the_scan_finds_restated_literals(source: str, expected: list[tuple[int, str]]) -> None:
    phases = frozenset({"Queued", "Completed", "Failed"})
    facts = phases | {"2024-01-01", "GetBatchInferenceJob"}
    assert sorted(restated(ast.parse(source), facts, phases)) == expected


def test_an_emulator_phase_the_spec_lacks_fails_the_check_naming_it() -> None:
    from ark_batch.emulator import phases  # noqa: PLC0415

    assert phases.QUEUED == "Queued"
    with pytest.raises(RuntimeError, match="JobPhase has no 'Paused' phase"):
        phases._phase("Paused")
