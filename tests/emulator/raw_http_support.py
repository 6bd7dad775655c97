"""Raw HTTP/1.1 over a socket, for request lines and bytes an HTTP client will not send."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def envelope(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


def send_raw(
    url: str, request: bytes, timeout: float = 10.0, *, close_sending: bool = False
) -> RawResponse:
    """Send ``request`` (bytes as they are) to ``url``'s host and read the answer.

    The request should carry ``Connection: close``; the answer is read to end of stream.
    ``close_sending`` also shuts the sending side once the bytes are sent, for bytes whose
    framing the server may read as unfinished.
    """
    host, _, port = url.removeprefix("http://").rpartition(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        if close_sending:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return _parse(data)


def _parse(data: bytes) -> RawResponse:
    assert data, "the connection closed without an answer"
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split(" ")[1]), headers, body)


def request_bytes(target: str, headers: dict[str, str], body: bytes, method: str = "POST") -> bytes:
    """An HTTP/1.1 message with ``target`` as the request target, closing the connection."""
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body
