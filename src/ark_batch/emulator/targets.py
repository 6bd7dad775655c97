"""Request targets other than origin-form (RFC 9112 §3.2), before routing sees them.

uvicorn passes the target through as the ASGI path. An absolute-form target
(``POST http://host/?Action=... HTTP/1.1``), which servers must accept, is reduced to its
path; any other target that is not a path (``*``, the asterisk-form) is answered with the
envelope here, since no route can match it.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from ark_batch.emulator.protocol import EnvelopeError, envelope_headers, fresh_error_body
from ark_batch.emulator.routing import resolve_action

__all__ = ["RequestTargetMiddleware"]

_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/]*")
_ABSOLUTE_RAW = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/]*")


class RequestTargetMiddleware:
    """ASGI middleware: origin-form paths for the router, the envelope for the rest."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "/")
        if scope["type"] != "http" or path.startswith("/"):
            await self.app(scope, receive, send)
            return
        match = _ABSOLUTE.match(path)
        if match:
            scope = dict(scope)
            scope["path"] = path[match.end() :] or "/"
            raw_path: bytes = scope.get("raw_path") or path.encode("utf-8")
            raw_match = _ABSOLUTE_RAW.match(raw_path)
            scope["raw_path"] = (raw_path[raw_match.end() :] if raw_match else raw_path) or b"/"
            await self.app(scope, receive, send)
            return
        await _answer_unroutable(scope, send, path)


async def _answer_unroutable(scope: Scope, send: Send, path: str) -> None:
    state = scope["app"].state.emulator
    config = state.config
    try:
        action, version = resolve_action(scope["query_string"].decode("latin-1"))
    except EnvelopeError:
        action = version = None
    error = EnvelopeError(
        "InvalidActionOrVersion",
        f"Could not find an operation at target {path[:64]}: every action is served at /.",
    )
    payload = fresh_error_body(config.clock(), action, version, config.region, error)
    headers = envelope_headers(payload)
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
