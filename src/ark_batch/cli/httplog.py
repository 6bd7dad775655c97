"""Request logging for ``-v``/``--debug``, and the raw bodies ``--json`` prints.

Logged on the ``ark_batch.http`` logger at DEBUG: each request (method and URL, never a
header, so neither the signature nor a session token), each response (status, RequestId,
time taken) and each retry. The successful response bodies are kept as received, so
``get --json`` and ``list --json`` print the service's JSON unchanged.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

import typer

from ark_batch.cli.state import state
from ark_batch.redaction import redact_userinfo

if TYPE_CHECKING:
    import httpx

__all__ = ["VERBOSE_HELP", "HttpLog", "log_to_stderr"]

logger = logging.getLogger("ark_batch.http")

VERBOSE_HELP = (
    "Log each request, response status, RequestId and retry on stderr (never a key or signature)."
)


def log_to_stderr(ctx: typer.Context) -> None:
    """Send the ``ark_batch`` loggers to stderr at DEBUG until the command ends."""
    current = state(ctx)
    if current.verbose:
        return
    current.verbose = True
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("ark_batch")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    def restore() -> None:
        root.removeHandler(handler)
        root.setLevel(level)

    ctx.find_root().call_on_close(restore)


def _action(request: httpx.Request) -> str:
    return request.url.params.get("Action") or request.url.path


def _request_id(response: httpx.Response) -> str:
    try:
        meta = json.loads(response.content).get("ResponseMetadata", {})
        request_id = meta.get("RequestId")
    except (ValueError, AttributeError, RecursionError):  # not an envelope (or hostile)
        request_id = None
    if isinstance(request_id, str) and request_id:
        return request_id
    return response.headers.get("x-tt-logid") or response.headers.get("x-request-id") or "-"


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class HttpLog:
    """httpx event hooks: log each exchange and keep each successful body."""

    def __init__(self) -> None:
        #: Raw bodies of the 2xx responses, oldest first.
        self.bodies: list[bytes] = []
        self._attempts: dict[str, int] = {}
        self._started: dict[int, float] = {}

    def event_hooks(self) -> dict[str, list[Any]]:
        """The ``event_hooks`` argument of an ``httpx.Client``."""
        return {"request": [self._on_request], "response": [self._on_response]}

    def _on_request(self, request: httpx.Request) -> None:
        action = _action(request)
        attempt = self._attempts.get(action, 0) + 1
        self._attempts[action] = attempt
        self._started[id(request)] = time.perf_counter()
        if attempt > 1:
            logger.debug("retrying %s: attempt %d", action, attempt)
        logger.debug("%s %s", request.method, redact_userinfo(str(request.url)))

    def _on_response(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        started = self._started.pop(id(request), None)
        took = "" if started is None else f" in {(time.perf_counter() - started) * 1000:.0f} ms"
        status = response.status_code
        logger.debug(
            "HTTP %d from %s, RequestId %s%s", status, _action(request), _request_id(response), took
        )
        if not _retryable(status):
            # A later request for this action is a new call, not a retry.
            self._attempts.pop(_action(request), None)
        if 200 <= status < 300:
            self.bodies.append(response.content)

    def results(self) -> list[Any]:
        """The ``Result`` member of each kept body, as parsed JSON (order kept)."""
        out = []
        for body in self.bodies:
            document = json.loads(body)
            if isinstance(document, dict) and "Result" in document:
                out.append(document["Result"])
        return out
