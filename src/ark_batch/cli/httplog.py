"""Request logging for ``-v``/``--debug``, and the raw bodies ``--json`` prints.

Logged on the ``ark_batch.http`` logger at DEBUG: each request (method and URL, never a
header, so neither the signature nor a session token), each response (status, RequestId,
time taken) and each retry. Successful response bodies are kept as received, so
``get --json`` and ``list --json`` print the service's JSON unchanged: every List page,
and of any other action only the newest body (a long ``wait`` polls many times).
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


def _request_id(headers: httpx.Headers, content: bytes) -> str:
    try:
        meta = json.loads(content).get("ResponseMetadata", {})
        request_id = meta.get("RequestId")
    except (ValueError, AttributeError, RecursionError):  # not an envelope (or hostile)
        request_id = None
    if isinstance(request_id, str) and request_id:
        return request_id
    return headers.get("x-tt-logid") or headers.get("x-request-id") or "-"


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class HttpLog:
    """Log each exchange and keep the successful bodies ``--json`` prints.

    Requests are seen through an httpx request hook; responses through the facade's
    ``on_response``, once the facade has read them (so its deadline and size cap hold).
    """

    def __init__(self) -> None:
        from ark_batch._api import LIST  # noqa: PLC0415  # loads the generated client

        self._list_action = LIST
        #: Raw bodies of the 2xx List responses, oldest first.
        self.pages: list[bytes] = []
        #: Raw body of the newest 2xx response, of any action.
        self.latest: bytes | None = None
        self._attempts: dict[str, int] = {}
        self._started: dict[str, float] = {}

    def event_hooks(self) -> dict[str, list[Any]]:
        """The ``event_hooks`` argument of an ``httpx.Client``."""
        return {"request": [self._on_request]}

    def _on_request(self, request: httpx.Request) -> None:
        action = _action(request)
        attempt = self._attempts.get(action, 0) + 1
        self._attempts[action] = attempt
        self._started[action] = time.perf_counter()
        if attempt > 1:
            logger.debug("retrying %s: attempt %d", action, attempt)
        logger.debug("%s %s", request.method, redact_userinfo(str(request.url)))

    def on_response(self, action: str, status: int, headers: httpx.Headers, content: bytes) -> None:
        """The facade's ``on_response``: log the answer and keep a 2xx body."""
        started = self._started.pop(action, None)
        if logger.isEnabledFor(logging.DEBUG):
            took = "" if started is None else f" in {(time.perf_counter() - started) * 1000:.0f} ms"
            logger.debug(
                "HTTP %d from %s, RequestId %s%s",
                status,
                action,
                _request_id(headers, content),
                took,
            )
        if not _retryable(status):
            # A later request for this action is a new call, not a retry.
            self._attempts.pop(action, None)
        if 200 <= status < 300:
            self.latest = content
            if action == self._list_action:
                self.pages.append(content)

    def results(self) -> list[Any]:
        """The ``Result`` member of each kept List page, as parsed JSON (order kept)."""
        return [result for body in self.pages if (result := _result(body)) is not _NONE]

    def last_result(self) -> Any:
        """The ``Result`` of the newest successful response."""
        if self.latest is not None and (result := _result(self.latest)) is not _NONE:
            return result
        raise LookupError("no response with a Result was kept")


_NONE = object()


def _result(body: bytes) -> Any:
    document = json.loads(body)
    if isinstance(document, dict) and "Result" in document:
        return document["Result"]
    return _NONE
