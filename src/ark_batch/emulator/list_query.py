"""The SQL of a List: its WHERE clause, and how its count and page are read.

Filters go to the index or table that answers them (decision 0016): the generated
columns of ``jobs``, ``job_tags`` for TagFilters, the trigram ``job_names`` for Name,
whose rowids keep each account's names in a range of their own (decision 0029).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "DENSE_WINDOW",
    "NAME_ROWID_BITS",
    "ListQuery",
    "count_from_names",
    "count_from_tags",
    "dense_window",
    "is_dense",
    "name_base",
    "order_by",
    "where_clause",
]

#: A ``job_names`` rowid is ``(account ordinal << NAME_ROWID_BITS) + job seq`` (schema 4).
NAME_ROWID_BITS = 40


@dataclass(slots=True)
class ListQuery:
    """The decoded ListBatchInferenceJobs request; empty sequences mean "no filter"."""

    project_name: str | None = None
    ids: Sequence[str] = ()
    name: str | None = None
    foundation_models: Sequence[tuple[str, Sequence[str]]] = ()
    custom_model_ids: Sequence[str] = ()
    phases: Sequence[str] = ()
    tag_filters: Sequence[tuple[str, Sequence[str]]] = ()
    sort_by: Literal["create_time", "update_time"] = "create_time"
    descending: bool = True
    page_number: int = 1
    page_size: int = 10


def placeholders(values: Sequence[Any]) -> str:
    """``?, ?, ...``: one SQL parameter per value."""
    return ", ".join("?" * len(values))


# A trigram index finds substrings of 3 characters or more; shorter needles read the
# account's range of the plain name table (job_name_text, the index's content) instead.
_TRIGRAM = 3


def _phrase(needle: str) -> str:
    """An FTS5 phrase that matches exactly the substring ``needle``."""
    return '"' + needle.replace('"', '""') + '"'


def name_base(ordinal: int | None) -> int:
    """The first ``job_names`` rowid of the account with ``ordinal`` (0: it has no jobs).

    No name has a rowid below ``1 << NAME_ROWID_BITS``, so base 0 matches nothing.
    """
    return 0 if ordinal is None else ordinal << NAME_ROWID_BITS


def _in_account(base: int) -> tuple[str, list[Any]]:
    return "rowid BETWEEN ? AND ?", [base, base + (1 << NAME_ROWID_BITS) - 1]


def _name_clause(name: str, base: int, *, drive: bool) -> tuple[str, list[Any]]:
    needle = name.casefold()
    if not drive:
        # Checked per candidate row that another filter found: one plain-row lookup.
        return (
            "EXISTS (SELECT 1 FROM job_name_text "
            "WHERE rowid = ? + jobs.seq AND instr(name, ?) > 0)",
            [base, needle],
        )
    in_account, bounds = _in_account(base)
    source, match, params = _name_match(needle)
    clause = f"seq IN (SELECT rowid - ? FROM {source} WHERE {match} AND {in_account})"  # noqa: S608
    return clause, [base, *params, *bounds]


def _name_match(needle: str) -> tuple[str, str, list[Any]]:
    """Where a case-folded needle's matches are read: the table, its condition, params."""
    if len(needle) >= _TRIGRAM:
        return "job_names", "job_names MATCH ?", [_phrase(needle)]
    return "job_name_text", "instr(name, ?) > 0", [needle]


def _tag_condition(key: str, values: Sequence[str]) -> tuple[str, list[Any]]:
    condition = "key = ?"
    if values:
        condition += f" AND value IN ({placeholders(values)})"
    return condition, [key, *values]


def _tag_clause(
    account_id: str, key: str, values: Sequence[str], *, drive: bool
) -> tuple[str, list[Any]]:
    condition, params = _tag_condition(key, values)
    if drive:
        clause = f"seq IN (SELECT job_seq FROM job_tags WHERE account_id = ? AND {condition})"  # noqa: S608
        return clause, [account_id, *params]
    clause = f"EXISTS (SELECT 1 FROM job_tags WHERE job_seq = jobs.seq AND {condition})"  # noqa: S608
    return clause, params


def count_from_tags(account_id: str, query: ListQuery) -> tuple[str, list[Any]] | None:
    """A count read from the tags index alone, when one TagFilter is the only filter."""
    if len(query.tag_filters) != 1 or query.name is not None or query.foundation_models:
        return None
    if query.project_name is not None or query.ids or query.custom_model_ids or query.phases:
        return None
    key, values = query.tag_filters[0]
    condition, params = _tag_condition(key, values)
    sql = f"SELECT count(DISTINCT job_seq) FROM job_tags WHERE account_id = ? AND {condition}"  # noqa: S608
    return sql, [account_id, *params]


def count_from_names(base: int, query: ListQuery) -> tuple[str, list[Any]] | None:
    """A count read from the names alone, when a Name is the only filter: the account's
    rowid range (from ``base``) stands in for its jobs.
    """
    if query.name is None or query.tag_filters or query.foundation_models:
        return None
    if query.project_name is not None or query.ids or query.custom_model_ids or query.phases:
        return None
    source, match, params = _name_match(query.name.casefold())
    in_account, bounds = _in_account(base)
    sql = f"SELECT count(*) FROM {source} WHERE {match} AND {in_account}"  # noqa: S608
    return sql, [*params, *bounds]


def where_clause(
    account_id: str, query: ListQuery, *, base: int = 0, dense: bool = False
) -> tuple[str, list[Any]]:
    """The WHERE clause of a List; ``dense``: only per-row checks, for an ordered scan.

    ``base``: the account's :func:`name_base`, needed when the query has a Name.
    """
    clauses = ["account_id = ?"]
    params: list[Any] = [account_id]
    if query.project_name is not None:
        clauses.append("project_name = ?")
        params.append(query.project_name)
    for column, values in (
        ("id", query.ids),
        ("custom_model_id", query.custom_model_ids),
        ("phase", query.phases),
    ):
        if values:
            clauses.append(f"{column} IN ({placeholders(values)})")
            params.extend(values)
    if query.foundation_models:
        alternatives = []
        for model_name, versions in query.foundation_models:
            if versions:
                alternatives.append(
                    f"(model_name = ? AND model_version IN ({placeholders(versions)}))"
                )
                params.append(model_name)
                params.extend(versions)
            else:
                alternatives.append("model_name = ?")
                params.append(model_name)
        clauses.append(f"({' OR '.join(alternatives)})")
    # One tag or name filter is a set the planner may start from; the others are
    # checked per candidate, so no second large set is built only to be intersected.
    for index, (key, values) in enumerate(query.tag_filters):
        clause, values_params = _tag_clause(account_id, key, values, drive=index == 0 and not dense)
        clauses.append(clause)
        params.extend(values_params)
    if query.name is not None:
        clause, values_params = _name_clause(
            query.name, base, drive=not query.tag_filters and not dense
        )
        clauses.append(clause)
        params.extend(values_params)
    return " AND ".join(clauses), params


# Above this many matches, a name or tag filter's page is read in time order from the
# account's index, checking each job in turn and stopping at the page, rather than by
# sorting every match.
_DENSE_MATCHES = 1000


def order_by(query: ListQuery) -> str:
    """The ORDER BY terms of a List's page: its sort field, then the Id, one direction."""
    direction = "DESC" if query.descending else "ASC"
    return f"{query.sort_by} {direction}, id {direction}"


#: A dense page is looked for first among at least this many of the account's jobs at
#: the page's end of the order (decision 0030): checking 2,000 jobs by name costs 2 ms.
DENSE_WINDOW = 2000


def dense_window(total: int) -> int:
    """How many jobs a dense page is looked for among before the set of ``total`` matches.

    A quarter of the matches, at least :data:`DENSE_WINDOW`: wide enough that a filter
    with many matches steps over a burst of newer non-matching jobs, and a failed window
    costs about as much per match as the set built after it. A chosen bound, not a
    computed break-even (decision 0030).
    """
    return max(DENSE_WINDOW, total // 4)


def is_dense(query: ListQuery, total: int) -> bool:
    return total > _DENSE_MATCHES and not query.phases and bool(query.name or query.tag_filters)
