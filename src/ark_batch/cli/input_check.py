"""A local check of a batch input file, before it costs an upload and a job.

It checks what the service checks of every line: one JSON object per line (blank lines
are skipped), a ``custom_id`` that is a non-empty string unique in the file, and a
``body`` object (the chat request). UTF-8 only; a byte-order mark is allowed on line 1.
A line longer than :data:`MAX_LINE_BYTES` ends the check.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MAX_LINE_BYTES", "InputProblem", "InputReport", "check_input"]

_BOM = b"\xef\xbb\xbf"
#: The longest line checked. Neither the API reference nor the spec states a limit per
#: line; this one keeps memory bounded (a file without a newline, such as /dev/zero, was
#: read whole) while leaving room for requests with long documents.
MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class InputProblem:
    """What is wrong with one line."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class InputReport:
    """The result of :func:`check_input`."""

    requests: int = 0
    problems: list[InputProblem] = field(default_factory=list)
    #: More problems were found than were kept.
    truncated: bool = False
    #: Hex SHA-256 of the whole file, so a caller need not read it again to hash it.
    sha256: str = ""

    @property
    def ok(self) -> bool:
        """Whether the file holds at least one request and no problem."""
        return not self.problems and self.requests > 0


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_decode = json.JSONDecoder(parse_constant=_reject_constant).decode


def _problem(line: bytes, line_no: int, seen: dict[bytes, int]) -> str | None:
    if line_no == 1 and line.startswith(_BOM):
        line = line[len(_BOM) :]
    if not line.strip():
        return ""
    try:
        document = _decode(line.decode())
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except RecursionError:
        return "is nested too deeply"
    except ValueError as exc:
        return f"is not valid JSON ({exc})"
    if not isinstance(document, dict):
        return "is not a JSON object"
    if "custom_id" not in document:
        return "has no custom_id"
    custom_id = document["custom_id"]
    if not isinstance(custom_id, str) or not custom_id:
        return "custom_id must be a non-empty string"
    try:
        digest = hashlib.blake2b(custom_id.encode(), digest_size=16).digest()
    except UnicodeEncodeError:
        return "custom_id is not valid UTF-8 text"
    first = seen.setdefault(digest, line_no)
    if first != line_no:
        return f"repeats custom_id {json.dumps(custom_id, ensure_ascii=False)} of line {first}"
    if not isinstance(document.get("body"), dict):
        return "has no body object (the request to send)"
    return None


def check_input(path: Path, *, max_problems: int = 20) -> InputReport:
    """Check every line of ``path``; keep at most ``max_problems`` problems."""
    report = InputReport()
    # custom_ids are remembered by a 16-byte digest, so memory stays small on big files.
    seen: dict[bytes, int] = {}
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for line_no, line in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1):
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                # The rest of the line could be endless: stop here, the file is refused.
                message = f"is longer than {MAX_LINE_BYTES} bytes; the check stops here"
                report.problems.append(InputProblem(line_no, message))
                break
            digest.update(line)
            problem = _problem(line, line_no, seen)
            if problem == "":
                continue
            if problem is None:
                report.requests += 1
            elif len(report.problems) < max_problems:
                report.problems.append(InputProblem(line_no, problem))
            else:
                report.truncated = True
    report.sha256 = digest.hexdigest()
    return report
