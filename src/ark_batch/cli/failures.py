"""How the CLI fails: one line on stderr and an exit code, never a traceback.

Exit codes: 0 success; 1 an error (the service's Code, Message and RequestId on one
line); 2 bad usage; 3 the job ended Failed or Terminated; 4 ``wait`` timed out; 130
interrupted.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from pathlib import PurePath
from typing import Any, TypeVar

import typer

from ark_batch.cli.state import state
from ark_batch.errors import (
    ApiError,
    ArkBatchError,
    JobFailedError,
    TransportError,
    UnexpectedResponseError,
    WaitTimeoutError,
)
from ark_batch.redaction import redact_userinfo

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_JOB_FAILED",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "UsageError",
    "finite",
    "handle_errors",
]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_JOB_FAILED = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """The command line asks for something that cannot be done as given (exit 2)."""


class CommandError(Exception):
    """The command cannot do what was asked, for a reason outside the service (exit 1)."""


def one_line(text: str) -> str:
    """``text`` with every run of whitespace, newlines included, as one space."""
    return " ".join(text.split())


def error_line(exc: BaseException, endpoint: str | None = None) -> str:
    """The one line printed for ``exc``; transport errors name the endpoint."""
    if isinstance(exc, ApiError):
        return (
            f"Error: {exc.code}: {one_line(exc.message)} "
            f"(RequestId: {exc.request_id or '-'}, HTTP {exc.status})"
        )
    if isinstance(exc, UnexpectedResponseError):
        return f"Error: UnexpectedResponse: {_without_userinfo(one_line(str(exc)))}"
    text = one_line(str(exc))
    if isinstance(exc, TransportError) and endpoint:
        if endpoint.rstrip("/") not in text:  # a refused connection names it already
            text = f"{text} (endpoint {endpoint})"
        if "WRONG_VERSION_NUMBER" in text and endpoint.startswith("https://"):
            text += f"; it does not speak HTTPS: try http://{endpoint.removeprefix('https://')}"
    return f"Error: {type(exc).__name__}: {_without_userinfo(text)}"


#: A URL in a message, up to the next space; its user info is what may hold a secret.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def _without_userinfo(text: str) -> str:
    """``text`` with the user info of every URL in it redacted.

    The client refuses an endpoint with user info; should one get here anyway (or a
    message quote another URL), its password is not printed.
    """
    return _URL.sub(lambda match: redact_userinfo(match[0]), text)


def finite(value: float | None) -> float | None:
    """An option callback: refuse NaN and infinities, which no range check catches."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


def _not_text(value: Any) -> bool:
    """Whether ``value`` holds a string that cannot be encoded as UTF-8.

    An argument with a byte that is not UTF-8 reaches Python as a lone surrogate; it could
    be neither sent nor stored.
    """
    if isinstance(value, (list, tuple)):
        return any(_not_text(item) for item in value)
    if isinstance(value, PurePath):
        value = str(value)
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _context(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    # typer hands commands its own click Context class, not typer.Context itself.
    contexts = [a for a in (*args, *kwargs.values()) if hasattr(a, "find_object")]
    return contexts[0] if contexts else None


def _check_text_arguments(context: Any, kwargs: dict[str, Any]) -> None:
    """Refuse an argument that is not UTF-8 text, naming its option."""
    params = {p.name: p for p in context.command.params} if context is not None else {}
    for name, value in kwargs.items():
        if not _not_text(value):
            continue
        param = params.get(name)
        if param is not None and param.param_type_name == "argument":
            what = f"the {param.human_readable_name.upper()} argument"
        elif param is not None and param.opts:
            what = max(param.opts, key=len)
        else:
            what = f"the {name.upper()} argument"  # a command without a context
        raise UsageError(f"{what} is not valid UTF-8 text")


def _fail(code: int, line: str) -> typer.Exit:
    typer.echo(line, err=True)
    return typer.Exit(code)


def handle_errors(func: F) -> F:
    """Map the errors a command means to raise to one line and an exit code.

    Anything else is a defect and keeps its traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            _check_text_arguments(_context(args, kwargs), kwargs)
            return func(*args, **kwargs)
        except UsageError as exc:
            raise _fail(EXIT_USAGE, f"Error: {one_line(str(exc))}") from None
        except CommandError as exc:
            raise _fail(EXIT_ERROR, f"Error: {one_line(str(exc))}") from None
        except JobFailedError as exc:
            raise _fail(EXIT_JOB_FAILED, error_line(exc)) from None
        except WaitTimeoutError as exc:
            raise _fail(EXIT_TIMEOUT, error_line(exc)) from None
        except ArkBatchError as exc:
            context = _context(args, kwargs)
            endpoint = state(context).endpoint if context is not None else None
            raise _fail(EXIT_ERROR, error_line(exc, endpoint)) from None
        except KeyboardInterrupt:
            raise _fail(EXIT_INTERRUPTED, "Interrupted") from None

    return wrapper  # type: ignore[return-value]
