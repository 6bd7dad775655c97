"""A headless Chromium driven over the DevTools protocol on a pipe (no extra packages).

``Browser.open(url)`` loads a page; ``page.evaluate(js)`` runs an (async) expression and
returns its value; ``page.requests`` lists every URL the page asked the network for.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from types import TracebackType
from typing import Any


def chromium_binary() -> str | None:
    """The system Chromium, if installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    pass


# Puts the two pipe ends on descriptors 3 and 4, then becomes Chromium. Each end is
# first moved above 4, so placing one cannot overwrite the other.
_TRAMPOLINE = """
import fcntl, os, sys
ends = [fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3]]
os.dup2(ends[0], 3)
os.dup2(ends[1], 4)
os.execv(sys.argv[3], sys.argv[3:])
"""


class Browser:
    """One headless Chromium process; use as a context manager."""

    def __init__(self, binary: str) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="ark-batch-chromium-")
        to_browser_read, to_browser_write = os.pipe()
        from_browser_read, from_browser_write = os.pipe()
        # --remote-debugging-pipe reads commands on fd 3 and writes replies on fd 4.
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _TRAMPOLINE,
                str(to_browser_read),
                str(from_browser_write),
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile.name}",
                "about:blank",
            ],
            pass_fds=(to_browser_read, from_browser_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._writer = os.fdopen(to_browser_write, "wb", buffering=0)
        self._reader = os.fdopen(from_browser_read, "rb", buffering=0)
        self._ids = itertools.count(1)
        self._buffer = b""
        self.events: list[dict[str, Any]] = []

    def _next_message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = self._reader.read(1 << 16)
            if not chunk:
                raise BrowserError("chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        """Send one DevTools command and return its result (events are kept in ``events``)."""
        command_id = next(self._ids)
        command: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        self._writer.write(json.dumps(command).encode() + b"\0")
        while True:
            message = self._next_message()
            if message.get("id") != command_id:
                self.events.append(message)
                continue
            if "error" in message:
                raise BrowserError(f"{method}: {message['error'].get('message')}")
            return message["result"]

    def open(self, url: str) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        page = Page(self, session["sessionId"])
        self.send("Network.enable", session=page.session)
        self.send("Page.navigate", {"url": url}, session=page.session)
        return page

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (BrowserError, OSError):
            self._process.kill()
        self._process.wait(timeout=30)
        self._writer.close()
        self._reader.close()
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session

    def evaluate(self, expression: str, timeout: float = 30.0) -> Any:
        """The value of ``expression`` (awaited), retried while the page is still loading."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self.browser.send(
                    "Runtime.evaluate",
                    {"expression": expression, "awaitPromise": True, "returnByValue": True},
                    session=self.session,
                )
            except BrowserError as exc:
                # A navigation replaces the execution context; evaluate in the new one.
                if "context" not in str(exc) or time.monotonic() > deadline:
                    raise
                continue
            if "exceptionDetails" in reply:
                raise BrowserError(str(reply["exceptionDetails"].get("exception")))
            return reply["result"].get("value")

    @property
    def requests(self) -> list[str]:
        """Every URL this page requested, in order."""
        return [
            event["params"]["request"]["url"]
            for event in self.browser.events
            if event.get("method") == "Network.requestWillBeSent"
            and event.get("sessionId") == self.session
        ]
