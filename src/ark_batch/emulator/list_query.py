"""The SQL of a List: its WHERE clause, and how its count and page are read.

Filters go to the index or table that answers them (decision 0016): the generated
columns of ``jobs``, ``job_tags`` for TagFilters, the trigram ``job_names`` for Name,
whose rowids keep each account's names in a range of their own (decision 0029).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias

from ark_batch.emulator.migrations import name_index_text

__all__ = [
    "COLUMN_RATIO",
    "DENSE_WINDOW",
    "NAME_ROWID_BITS",
    "SMALL_SET",
    "ListQuery",
    "Role",
    "column_size",
    "count_from_sets",
    "default_roles",
    "dense_window",
    "is_dense",
    "name_base",
    "needs_plan",
    "order_by",
    "plan_roles",
    "set_size",
    "where_clause",
]

#: A ``job_names`` rowid is ``(account ordinal << NAME_ROWID_BITS) + job seq`` (schema 4).
NAME_ROWID_BITS = 40

#: What a Name or TagFilter does in a List's query. ``drive``: the query starts from its
#: set of matches. ``check``: looked up per candidate row. ``probe``: its set is built
#: once and each candidate is looked up in it, while the column filters' index drives.
Role: TypeAlias = Literal["drive", "check", "probe"]

# A unary + keeps SQLite from starting at the rowid: the set is only probed.
_SEQ: dict[Role, str] = {"drive": "seq", "probe": "+seq", "check": "seq"}


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
    """An FTS5 phrase that matches exactly the substring ``needle`` of the indexed text,
    where each NUL is U+FFFD (:func:`~ark_batch.emulator.migrations.name_index_text`)."""
    return '"' + str(name_index_text(needle)).replace('"', '""') + '"'


# The characters the trigram index cannot tell apart: a needle with one is also checked
# against the plain name.
_AMBIGUOUS = ("\x00", "\ufffd")


def name_base(ordinal: int | None) -> int:
    """The first ``job_names`` rowid of the account with ``ordinal`` (0: it has no jobs).

    No name has a rowid below ``1 << NAME_ROWID_BITS``, so base 0 matches nothing.
    """
    return 0 if ordinal is None else ordinal << NAME_ROWID_BITS


def _in_account(base: int) -> tuple[str, list[Any]]:
    return "rowid BETWEEN ? AND ?", [base, base + (1 << NAME_ROWID_BITS) - 1]


# A candidate's seq, and its params: a jobs row, or a match a Name or TagFilter drives.
_JOBS_SEQ: tuple[str, list[Any]] = ("jobs.seq", [])


def _name_check(name: str, base: int, seq: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    """A Name checked per candidate that another filter found: one plain-row lookup."""
    expression, seq_params = seq
    clause = (
        "EXISTS (SELECT 1 FROM job_name_text "  # noqa: S608  # placeholders only
        f"WHERE rowid = ? + {expression} AND instr(name, ?) > 0)"
    )
    return clause, [base, *seq_params, name.casefold()]


def _name_match(needle: str) -> tuple[str, str, list[Any]]:
    """Where a case-folded needle's matches are read: the table, its condition, params."""
    if len(needle) >= _TRIGRAM:
        if any(character in needle for character in _AMBIGUOUS):
            # ``name`` is read from job_name_text, the index's content: the whole name.
            return (
                "job_names",
                "job_names MATCH ? AND instr(name, ?) > 0",
                [_phrase(needle), needle],
            )
        return "job_names", "job_names MATCH ?", [_phrase(needle)]
    return "job_name_text", "instr(name, ?) > 0", [needle]


def _tag_condition(key: str, values: Sequence[str]) -> tuple[str, list[Any]]:
    condition = "key = ?"
    if values:
        condition += f" AND value IN ({placeholders(values)})"
    return condition, [key, *values]


def _tag_check(
    key: str, values: Sequence[str], seq: tuple[str, list[Any]]
) -> tuple[str, list[Any]]:
    """A TagFilter checked per candidate that another filter found."""
    condition, params = _tag_condition(key, values)
    expression, seq_params = seq
    clause = f"EXISTS (SELECT 1 FROM job_tags WHERE job_seq = {expression} AND {condition})"  # noqa: S608
    return clause, [*seq_params, *params]


def _check(
    query: ListQuery, index: int, base: int, seq: tuple[str, list[Any]] = _JOBS_SEQ
) -> tuple[str, list[Any]]:
    """Name or TagFilter ``index`` (TagFilters first) checked per candidate ``seq``."""
    if index < len(query.tag_filters):
        return _tag_check(*query.tag_filters[index], seq)
    if query.name is None:
        raise IndexError(index)
    return _name_check(query.name, base, seq)


def _matches(
    account_id: str, query: ListQuery, index: int, base: int
) -> tuple[str, list[Any], tuple[str, list[Any]]]:
    """Where Name or TagFilter ``index``'s matches are read (``table WHERE ...``), its
    params, and a match's seq with its params. Both tables hold only the account's jobs.
    """
    if index < len(query.tag_filters):
        condition, params = _tag_condition(*query.tag_filters[index])
        source = f"job_tags AS d WHERE d.account_id = ? AND {condition}"
        return source, [account_id, *params], ("d.job_seq", [])
    if query.name is None:
        raise IndexError(index)
    table, match, params = _name_match(query.name.casefold())
    in_account, bounds = _in_account(base)
    return (
        f"{table} WHERE {match} AND {in_account}",
        [*params, *bounds],
        (
            f"({table}.rowid - ?)",
            [base],
        ),
    )


def count_from_sets(
    account_id: str, query: ListQuery, roles: Sequence[Role], *, base: int = 0
) -> tuple[str, list[Any]] | None:
    """A count read from the Name and TagFilter indexes alone, when they are the only
    filters: the driving filter's matches, each other filter checked per match. Both
    indexes hold only the account's jobs, so the jobs table is not read.
    """
    if query.ids or _has_column_filter(query) or "drive" not in roles:
        return None
    driver = roles.index("drive")
    source, params, seq = _matches(account_id, query, driver, base)
    # A job with a tag key twice (two values) is one job; a name is one row a job.
    counted = f"DISTINCT {seq[0]}" if driver < len(query.tag_filters) else "*"
    clauses = [f"SELECT count({counted}) FROM {source}"]  # noqa: S608  # placeholders only
    for index in range(len(roles)):
        if index != driver:
            clause, clause_params = _check(query, index, base, seq)
            clauses.append(clause)
            params.extend(clause_params)
    return " AND ".join(clauses), params


def where_clause(
    account_id: str,
    query: ListQuery,
    *,
    base: int = 0,
    dense: bool = False,
    roles: Sequence[Role] | None = None,
) -> tuple[str, list[Any]]:
    """The WHERE clause of a List; ``dense``: only per-row checks, for an ordered scan.

    ``base``: the account's :func:`name_base`, needed when the query has a Name.
    ``roles``: one per Name or TagFilter, TagFilters first (:func:`plan_roles`); by
    default the first drives and the others are checked per candidate.
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
    count = _set_filter_count(query)
    if dense:
        roles = ["check"] * count
    elif roles is None:
        roles = default_roles(query)
    if len(roles) != count:
        raise ValueError(f"{len(roles)} roles for {count} Name and TagFilters")
    for index, role in enumerate(roles):
        if role == "check":
            clause, values_params = _check(query, index, base)
        else:
            source, values_params, (seq, seq_params) = _matches(account_id, query, index, base)
            clause = f"{_SEQ[role]} IN (SELECT {seq} FROM {source})"  # noqa: S608
            values_params = [*seq_params, *values_params]
        clauses.append(clause)
        params.extend(values_params)
    return " AND ".join(clauses), params


# --- which filter a List starts from (decision 0032) --------------------------------------

#: A Name or TagFilter with at most this many matches is small: the query starts from
#: it and checks each other filter per match (about 1 µs a match, 2 ms for 2,000).
SMALL_SET = 2000


def _set_filter_count(query: ListQuery) -> int:
    return len(query.tag_filters) + (query.name is not None)


def _has_column_filter(query: ListQuery) -> bool:
    return bool(
        query.project_name is not None
        or query.custom_model_ids
        or query.phases
        or query.foundation_models
    )


def default_roles(query: ListQuery) -> list[Role]:
    """The roles when the sizes need not be measured: with Ids, every Name and TagFilter
    is checked (a few Ids drive); else the first drives (TagFilters first), the others
    are checked.
    """
    roles: list[Role] = ["check"] * _set_filter_count(query)
    if roles and not query.ids:
        roles[0] = "drive"
    return roles


def needs_plan(query: ListQuery) -> bool:
    """Whether the filters' sizes decide the query: several Name and TagFilters, or one
    with a column filter, and no Ids (:func:`default_roles`).
    """
    count = _set_filter_count(query)
    return not query.ids and (count > 1 or (count == 1 and _has_column_filter(query)))


def set_size(
    account_id: str, query: ListQuery, index: int, *, base: int = 0, cap: int | None = None
) -> tuple[str, list[Any]]:
    """SQL for the number of matches of Name or TagFilter ``index`` (TagFilters first).

    ``cap``: count at most ``cap + 1`` of them, which costs about 0.1 ms. A job with
    the same tag key twice may count twice: the figure only ranks the filters.
    """
    limit = "" if cap is None else f" LIMIT {int(cap) + 1}"
    source, params, _ = _matches(account_id, query, index, base)
    return f"SELECT count(*) FROM (SELECT 1 FROM {source}{limit})", params  # noqa: S608


def column_size(account_id: str, query: ListQuery) -> tuple[str, list[Any]]:
    """SQL for the number of the account's jobs the column filters (project, phase,
    model) match together, read from their index (about 0.02 µs a job).
    """
    where, params = where_clause(account_id, replace(query, tag_filters=(), name=None))
    return f"SELECT count(*) FROM jobs WHERE {where}", params  # noqa: S608  # placeholders only


#: A large Name or TagFilter drives rather than the column filters when it has at most
#: 1/COLUMN_RATIO of their matches: a probe costs about 0.1 µs a candidate, a driving
#: set's match about 0.5 µs (decision 0032).
COLUMN_RATIO = 4


def plan_roles(
    query: ListQuery,
    measure: Callable[[int, int | None], int],
    measure_columns: Callable[[], int],
) -> list[Role]:
    """The role of each Name and TagFilter (TagFilters first) in a query that
    :func:`needs_plan`. ``measure(index, cap)`` counts filter ``index``'s matches, at
    most ``cap + 1`` of them when ``cap`` is given (:func:`set_size`);
    ``measure_columns()`` counts the column filters' (:func:`column_size`).

    - The first small one (TagFilters are measured first, being the cheapest) drives,
      and every other filter is checked per candidate.
    - None is small, with column filters: if one set has at most 1/:data:`COLUMN_RATIO`
      of the columns' matches, the smallest such drives. Otherwise the columns' index
      drives, and each set is built once and probed.
    - None is small, and only they filter: the smallest by its exact size drives.

    Past the first, each set is counted only up to the smallest size so far.
    """
    count = _set_filter_count(query)
    roles: list[Role] = ["check"] * count
    for index in range(count):
        if measure(index, SMALL_SET) <= SMALL_SET:
            roles[index] = "drive"
            return roles
    cap = None
    if _has_column_filter(query):
        cap = measure_columns() // COLUMN_RATIO
        if cap <= SMALL_SET:  # every set is larger than that
            return ["probe"] * count
    # Each is counted only as far as the smallest so far: a larger one cannot drive,
    # and of equal ones the first does.
    smallest, best = None, None if cap is None else cap + 1
    for index in range(count):
        size = measure(index, best)
        if best is None or size < best:
            smallest, best = index, size
    if smallest is None:
        return ["probe"] * count
    roles[smallest] = "drive"
    return roles


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
