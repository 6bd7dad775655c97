"""The validation pass: every line a JSON object with a unique, non-empty custom_id."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TypeVar

from ark_batch.emulator.execution.lines import InputError, is_blank, parse_line
from ark_batch.emulator.execution.progress import IdIndex

__all__ = ["validate_input"]

S = TypeVar("S")

BATCH = 10_000


def validate_input(
    lines: Iterable[tuple[int, bytes]], ids: IdIndex, check: Callable[[], S | None]
) -> tuple[int, S | None]:
    """Read every line once; ``(request count, None)`` or ``(so far, what check said)``.

    Raises `InputError` on the first malformed line or repeated custom_id. Blank lines are
    skipped and not counted. `check` runs between batches; a non-None answer stops early.
    """
    total = 0
    batch: list[tuple[str, int]] = []
    for line_no, raw in lines:
        if is_blank(raw, line_no):
            continue
        custom_id, _ = parse_line(raw, line_no)
        batch.append((custom_id, line_no))
        if len(batch) >= BATCH:
            _add(ids, batch)
            total += len(batch)
            batch.clear()
            stop = check()
            if stop is not None:
                return total, stop
    _add(ids, batch)
    total += len(batch)
    if total == 0:
        raise InputError("Invalid input file: it contains no requests.")
    return total, None


def _add(ids: IdIndex, batch: list[tuple[str, int]]) -> None:
    duplicate = ids.add(batch)
    if duplicate is not None:
        raise InputError(
            f"Invalid input file: line {duplicate.line} repeats custom_id "
            f"{json.dumps(duplicate.custom_id, ensure_ascii=False)} "
            f"of line {duplicate.first_line}."
        )
