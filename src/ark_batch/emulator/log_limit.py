"""Rate-limited logging: a fault that repeats is logged once per interval, not per repeat.

A full disk or a read-only data dir makes every request and every retry fail the same
way; logging each one would fill the very disk that is full. `RateLimitedLog` logs the
first occurrence of each key, then at most one line per `interval` seconds saying how
many were left out.
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
        self, level: int, key: str, message: str, *args: object, exc_info: bool = False
    ) -> bool:
        """Log `message % args` unless `key` was logged less than `interval` ago.

        Returns whether a line was written. `exc_info` adds the traceback (only to the
        lines that are written).
        """
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False
            self._last[key] = now
            if len(self._last) > 1024:  # keys are few in practice; never grow unbounded
                self._last = {key: now}
            suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            message += f" ({suppressed} more like this in the last {self.interval:g} s)"
        self.logger.log(level, message, *args, exc_info=exc_info)
        return True

    def warning(self, key: str, message: str, *args: object) -> bool:
        """`log` at WARNING."""
        return self.log(logging.WARNING, key, message, *args)

    def error(self, key: str, message: str, *args: object, exc_info: bool = False) -> bool:
        """`log` at ERROR."""
        return self.log(logging.ERROR, key, message, *args, exc_info=exc_info)
