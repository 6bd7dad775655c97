"""Rate-limited logging: a fault that repeats is logged once per interval, not per repeat.

A full disk or a read-only data dir makes every request and every retry fail the same
way; logging each one would fill the very disk that is full. `RateLimitedLog` logs the
first occurrence of each key (by default, the message template), then at most one line
per `interval` seconds saying how many were left out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["RateLimitedLog"]


class RateLimitedLog:
    """Log through `logger`, at most once per `interval` seconds per key."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def log(
        self,
        level: int,
        message: str,
        *args: object,
        key: str | None = None,
        exc_info: bool = False,
    ) -> bool:
        """Log `message % args` unless `key` was logged less than `interval` ago.

        `key` defaults to `message` (the template, before formatting). Returns whether a
        line was written. `exc_info` adds the traceback (only to lines that are written).
        """
        key = message if key is None else key
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False
            if len(self._last) >= 1024:  # keys are few in practice; never grow unbounded
                self._last.clear()
            self._last[key] = now
            suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            message += f" ({suppressed} more like this in the last {self.interval:g} s)"
        self.logger.log(level, message, *args, exc_info=exc_info)
        return True

    def warning(self, message: str, *args: object, key: str | None = None) -> bool:
        """`log` at WARNING."""
        return self.log(logging.WARNING, message, *args, key=key)

    def error(
        self, message: str, *args: object, key: str | None = None, exc_info: bool = False
    ) -> bool:
        """`log` at ERROR."""
        return self.log(logging.ERROR, message, *args, key=key, exc_info=exc_info)
