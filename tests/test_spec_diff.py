"""nox -s spec_diff: api-smart-diff's classification plus the project's rules."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ark_batch.spec import default_registry
from generator import spec_diff

VERSION = default_registry().newest
NEXT = "2099-01-01"


@pytest.fixture(scope="session")
def node_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned api-smart-diff, installed once per run."""
    return spec_diff.install_tool(tmp_path_factory.mktemp("spec-diff-node"))


def shipped() -> dict[str, Any]:
    return copy.deepcopy(dict(default_registry().document(VERSION).document))


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"]
    return found


def report_for(
    node_modules: Path,
    after: dict[str, dict[str, Any]],
    accepted: set[tuple[str, str]] | None = None,
) -> spec_diff.Report:
    return spec_diff.compare("base", {VERSION: shipped()}, after, node_modules, accepted or set())


def test_removing_a_response_field_breaks_the_version(node_modules: Path) -> None:
    changed = shipped()
    del schemas(changed)["BatchInferenceJob"]["properties"]["TokenUsage"]
    report = report_for(node_modules, {VERSION: changed})
    assert report.breaking
    breaking = [c.text for c in report.changed[VERSION] if c.kind == "breaking"]
    assert any("TokenUsage" in text and "GetBatchInferenceJob" in text for text in breaking)


def test_adding_a_required_request_field_breaks_the_version(node_modules: Path) -> None:
    changed = shipped()
    create = schemas(changed)["CreateBatchInferenceJobRequest"]
    create["properties"]["Priority"] = {"type": "integer"}
    create["required"].append("Priority")
    report = report_for(node_modules, {VERSION: changed})
    assert report.breaking
    text = spec_diff.changelog(report, {VERSION: changed})
    assert f"#### Version {VERSION}" in text
    assert "- **Breaking**: CreateBatchInferenceJob: " in text
    assert "Priority" in text


def test_adding_optional_fields_and_a_phase_is_not_breaking(node_modules: Path) -> None:
    changed = shipped()
    schemas(changed)["CreateBatchInferenceJobRequest"]["properties"]["Priority"] = {
        "type": "integer"
    }
    schemas(changed)["BatchInferenceJob"]["properties"]["Priority"] = {"type": "integer"}
    schemas(changed)["JobPhase"]["enum"].append("Paused")
    report = report_for(node_modules, {VERSION: changed})
    assert not report.breaking
    assert any("Priority" in c.text for c in report.changed[VERSION])


def test_a_new_version_document_is_not_breaking(node_modules: Path) -> None:
    newer = shipped()
    newer["info"]["version"] = NEXT
    del schemas(newer)["BatchInferenceJob"]["properties"]["TokenUsage"]
    report = report_for(node_modules, {VERSION: shipped(), NEXT: newer})
    assert not report.breaking
    assert report.added == [NEXT]
    assert report.changed == {}
    text = spec_diff.changelog(report, {VERSION: shipped(), NEXT: newer})
    assert f"- **Added** Version {NEXT}: " in text
    assert "GetBatchInferenceJob" in text


def test_removing_a_version_is_breaking(node_modules: Path) -> None:
    newer = shipped()
    newer["info"]["version"] = NEXT
    report = report_for(node_modules, {NEXT: newer})
    assert report.removed == [VERSION]
    assert report.breaking
    assert f"Version {VERSION} is no longer served" in spec_diff.changelog(report, {NEXT: newer})


def test_an_accepted_correction_does_not_fail(node_modules: Path) -> None:
    changed = shipped()
    create = schemas(changed)["CreateBatchInferenceJobRequest"]
    create["properties"]["Priority"] = {"type": "integer"}
    create["required"].append("Priority")
    first = report_for(node_modules, {VERSION: changed})
    accepted = {(VERSION, c.text) for c in first.changed[VERSION] if c.kind == "breaking"}
    report = report_for(node_modules, {VERSION: changed}, accepted)
    assert not report.breaking
    assert {c.kind for c in report.changed[VERSION]} >= {"accepted"}


def test_the_committed_accepted_list_gives_a_reason_for_every_entry() -> None:
    accepted = spec_diff.accepted_changes()
    assert all(version in default_registry().versions for version, _ in accepted)


def test_an_entry_without_a_reason_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "accepted.toml"
    entry = '[[accepted]]\nversion = "2024-01-01"\nchange = "x"\n'
    path.write_text(entry + 'reason = "a correction"\n', encoding="utf-8")
    assert spec_diff.accepted_changes(path) == {("2024-01-01", "x")}
    for text in (entry, entry + 'reason = " "\n', "accepted = 3\n"):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(spec_diff.SpecDiffError, match=r"accepted\.toml"):
            spec_diff.accepted_changes(path)


def test_the_spec_at_head_is_read_from_git() -> None:
    assert set(spec_diff.documents_at("HEAD")) <= set(default_registry().versions) | {VERSION}
    for ref in ("no-such-ref-anywhere", "--all"):
        with pytest.raises(spec_diff.SpecDiffError, match="not a commit"):
            spec_diff.documents_at(ref)


def test_main_prints_the_section_and_exits_1_on_a_break(
    node_modules: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    at_head = spec_diff.documents_at("HEAD")
    broken = copy.deepcopy(at_head)
    del schemas(broken[VERSION])["BatchInferenceJob"]["properties"]["Tags"]
    tools = node_modules.parent
    monkeypatch.setattr(spec_diff, "current_documents", lambda: broken)
    assert spec_diff.main(["HEAD", "--tools-dir", str(tools)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("### API (spec/ since HEAD)")
    assert "Tags" in out
    assert "breaking change to an existing Version" in err
    monkeypatch.setattr(spec_diff, "current_documents", lambda: at_head)
    assert spec_diff.main(["HEAD", "--tools-dir", str(tools)]) == 0
    assert "- No change to any API Version." in capsys.readouterr().out


def test_main_exits_2_naming_a_ref_that_is_not_a_commit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert spec_diff.main(["no-such-ref-anywhere"]) == 2
    assert "no-such-ref-anywhere is not a commit" in capsys.readouterr().err
