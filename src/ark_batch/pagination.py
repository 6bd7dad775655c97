"""Iterate every job matching a List request across pages, lazily (sync and async).

The iterator asks for page after page and stops at the first of:

* the jobs seen reach the latest ``TotalCount``;
* a page comes back empty;
* a page comes back short (fewer items than the page size asked for);
* ``max_pages`` pages were fetched (a guard against a server that never stops); if the
  last of them says more jobs are left, a warning is logged (logger ``ark_batch``).

Jobs already yielded (by Id) are skipped: with the default newest-first order, a job
created during iteration shifts later pages by one and would otherwise repeat. A full
page with no new job at all raises :class:`~ark_batch.errors.UnexpectedResponseError`
naming the page: the server repeats pages (it ignores ``PageNumber``), and going on
would only list the same jobs until ``max_pages``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from ark_batch._api import DEFAULT_PAGE_NUMBER, LIST, MAX_PAGE_SIZE
from ark_batch.errors import UnexpectedResponseError
from ark_batch_client.models import BatchInferenceJob, ListBatchInferenceJobsResult

logger = logging.getLogger("ark_batch")

__all__ = ["DEFAULT_MAX_PAGES", "aiter_jobs", "iter_jobs"]

#: 10 000 full pages: a million jobs, far beyond any real account.
DEFAULT_MAX_PAGES = 10_000

FetchPage = Callable[[int, int], ListBatchInferenceJobsResult]
AsyncFetchPage = Callable[[int, int], Awaitable[ListBatchInferenceJobsResult]]


class _Cursor:
    """Page bookkeeping shared by the sync and async iterators."""

    __slots__ = ("done", "max_pages", "page_number", "page_size", "pages", "seen")

    def __init__(self, first_page: int, page_size: int, max_pages: int) -> None:
        if first_page < 1 or page_size < 1 or max_pages < 1:
            raise ValueError("first_page, page_size and max_pages must be at least 1")
        self.page_number = first_page
        self.page_size = page_size
        self.max_pages = max_pages
        self.pages = 0
        self.seen: set[str] = set()
        self.done = False

    def take(self, page: ListBatchInferenceJobsResult) -> list[BatchInferenceJob]:
        """The new jobs of ``page``; sets ``done`` when no further page is needed."""
        self.pages += 1
        items = page.items if isinstance(page.items, list) else []  # absent: no items
        # A page of jobs already seen is no error: jobs created between two requests
        # shift the newest-first order by a page or more. A server that ignores
        # PageNumber says so in the page it answers with.
        if page.page_number != self.page_number:
            raise UnexpectedResponseError(
                f"asked for page {self.page_number} of the jobs, the server answered with "
                f"page {page.page_number!r} (does it ignore PageNumber?)",
                status=200,  # it was read as a ListBatchInferenceJobs result
                action=LIST,
            )
        fresh = [job for job in items if job.id not in self.seen]
        self.seen.update(job.id for job in fresh)
        # Position-based, not Id-based: a shifted page still counts as a full page.
        first_skip = (self.page_number - 1) * self.page_size
        if not items or len(items) < self.page_size or first_skip + len(items) >= page.total_count:
            self.done = True
        elif self.pages >= self.max_pages:
            self.done = True
            logger.warning(
                "listing stopped at max_pages=%d with jobs left (TotalCount %d, %d listed)",
                self.max_pages,
                page.total_count,
                len(self.seen),
            )
        self.page_number += 1
        return fresh


def iter_jobs(
    fetch: FetchPage,
    *,
    first_page: int = DEFAULT_PAGE_NUMBER,
    page_size: int = MAX_PAGE_SIZE,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Iterator[BatchInferenceJob]:
    """Yield every job, calling ``fetch(page_number, page_size)`` only as needed.

    Raises ValueError at once, not at the first ``next()``, for a bound below 1.
    """
    return _jobs(fetch, _Cursor(first_page, page_size, max_pages))


def _jobs(fetch: FetchPage, cursor: _Cursor) -> Iterator[BatchInferenceJob]:
    while not cursor.done:
        yield from cursor.take(fetch(cursor.page_number, cursor.page_size))


def aiter_jobs(
    fetch: AsyncFetchPage,
    *,
    first_page: int = DEFAULT_PAGE_NUMBER,
    page_size: int = MAX_PAGE_SIZE,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[BatchInferenceJob]:
    """The async twin of :func:`iter_jobs`."""
    return _ajobs(fetch, _Cursor(first_page, page_size, max_pages))


async def _ajobs(fetch: AsyncFetchPage, cursor: _Cursor) -> AsyncIterator[BatchInferenceJob]:
    while not cursor.done:
        for job in cursor.take(await fetch(cursor.page_number, cursor.page_size)):
            yield job
