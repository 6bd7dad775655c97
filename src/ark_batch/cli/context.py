"""Where a command's connection comes from: flags, a profile, the environment.

Precedence, first found wins, field by field:

1. ``--endpoint`` / ``--region``;
2. the profile named by ``--profile`` or ``ARK_BATCH_PROFILE`` (it must exist);
3. the environment: ``ARK_BATCH_ENDPOINT``, ``VOLCENGINE_REGION``, ``VOLCENGINE_ACCESS_KEY``
   / ``VOLCENGINE_SECRET_KEY`` (``VOLCENGINE_SESSION_TOKEN``), ``VOLC_ACCESSKEY`` /
   ``VOLC_SECRETKEY``;
4. the ``default`` profile of the config file, when it exists;
5. the built-in defaults of :mod:`ark_batch.connect` and :mod:`ark_batch.credentials`.

The client is built by :func:`connect`, the one place a command gets an ``ArkBatch``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from ark_batch.cli.failures import UsageError
from ark_batch.cli.httplog import VERBOSE_HELP, HttpLog, log_to_stderr
from ark_batch.cli.profiles import PROFILE_ENV, Profile, ProfileError, config_path, load_profile
from ark_batch.cli.state import CliState, state
from ark_batch.credentials import REGION_ENV, Credentials, any_credential_set, resolve_credentials
from ark_batch.errors import MissingCredentialsError

if TYPE_CHECKING:
    from ark_batch.facade import ArkBatch

__all__ = [
    "CliState",
    "EndpointOpt",
    "ProfileOpt",
    "RegionOpt",
    "VerboseOpt",
    "connect",
    "normalize_endpoint",
]

EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="API endpoint URL [env: ARK_BATCH_ENDPOINT], e.g. http://127.0.0.1:8080 for the "
        "emulator (a loopback address without a scheme means http://).",
    ),
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="Signing region [env: VOLCENGINE_REGION].")
]
VerboseOpt = Annotated[bool, typer.Option("-v", "--verbose", "--debug", help=VERBOSE_HELP)]
ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="Named profile from the config file [env: ARK_BATCH_PROFILE]; "
        "see `ark-batch config-path`.",
    ),
]


_LOOPBACK_NAMES = frozenset({"localhost"})


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_endpoint(value: str, source: str = "--endpoint") -> str:
    """An endpoint URL with its scheme: a bare loopback host means http, any other https.

    ``source`` names where the value came from (a flag, a variable, a profile) in errors.
    """
    from urllib.parse import urlsplit  # noqa: PLC0415

    from ark_batch.redaction import redact_url, redact_url_in  # noqa: PLC0415

    value = value.strip()
    # A password in the value never reaches a message: the value is shown redacted.
    shown = repr(redact_url(value) if "://" in value else redact_url(f"//{value}")[2:])
    scheme, sep, rest = value.partition("://")
    if sep:
        if scheme.lower() not in ("http", "https"):
            raise UsageError(
                f"{source} {shown} is not an http:// or https:// URL "
                "(e.g. http://127.0.0.1:8080 or https://open.volcengineapi.com)"
            )
        if not rest.split("/", 1)[0]:
            raise UsageError(f"{source} {shown} has no host")
        import httpx  # noqa: PLC0415  # not needed for --help

        try:
            httpx.URL(value)
        except httpx.InvalidURL as exc:
            detail = redact_url_in(str(exc), value)
            raise UsageError(f"{source} {shown} is not a valid URL: {detail}") from None
        return value.rstrip("/")
    value = value.rstrip("/")
    try:
        host = urlsplit(f"//{value}").hostname or ""
    except ValueError:  # an unclosed [IPv6 host
        raise UsageError(f"{source} {shown} is not a valid URL") from None
    if not host:
        raise UsageError(f"{source} {shown} has no host")
    return f"{'http' if _is_loopback(host) else 'https'}://{value}"


@dataclass(frozen=True)
class Connection:
    """The resolved endpoint, region and credentials of one command."""

    endpoint: str | None
    region: str | None
    credentials: Credentials


def _profiles(name: str | None) -> tuple[Profile | None, Profile | None]:
    """``(named profile, default profile)``; only one of them is ever set."""
    chosen = name or os.environ.get(PROFILE_ENV) or None
    try:
        if chosen:
            return load_profile(chosen), None
        return None, load_profile(None)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None


def _credentials(named: Profile | None, default: Profile | None) -> Credentials:
    def from_profile(profile: Profile) -> Credentials:
        if not (profile.access_key and profile.secret_key):
            raise UsageError(
                f"profile {profile.name!r} needs both access_key and secret_key "
                f"(in {config_path()})"
            )
        return Credentials(profile.access_key, profile.secret_key, profile.session_token)

    if named is not None and (named.access_key or named.secret_key):
        return from_profile(named)
    try:
        return resolve_credentials()
    except MissingCredentialsError:
        if any_credential_set():
            raise  # half a pair in the environment: say which half is missing
        if default is not None and (default.access_key or default.secret_key):
            return from_profile(default)
    raise MissingCredentialsError(
        "no credentials: set VOLCENGINE_ACCESS_KEY and VOLCENGINE_SECRET_KEY (or "
        "VOLC_ACCESSKEY and VOLC_SECRETKEY), or put access_key and secret_key in a profile "
        f"of {config_path()} and choose it with --profile"
    )


def resolve(endpoint: str | None, region: str | None, profile: str | None) -> Connection:
    """The connection settings of a command, by the precedence in the module docstring."""
    from ark_batch.connect import ENDPOINT_ENV  # noqa: PLC0415  # loads httpx

    named, default = _profiles(profile)
    # The first source that sets the endpoint, and how to name it in an error.
    sources = [
        ("--endpoint", endpoint),
        (f"the endpoint of profile {named.name!r}" if named else "", named and named.endpoint),
        (ENDPOINT_ENV, os.environ.get(ENDPOINT_ENV)),
        (
            f"the endpoint of profile {default.name!r}" if default else "",
            default and default.endpoint,
        ),
    ]
    source, chosen_endpoint = next(((s, v) for s, v in sources if v), ("", None))
    chosen_region = (
        region
        or (named.region if named else None)
        or os.environ.get(REGION_ENV)
        or (default.region if default else None)
    )
    return Connection(
        endpoint=normalize_endpoint(chosen_endpoint, source) if chosen_endpoint else None,
        region=chosen_region or None,
        credentials=_credentials(named, default),
    )


def connect(
    ctx: typer.Context,
    endpoint: str | None,
    region: str | None,
    profile: str | None,
    verbose: bool = False,
) -> ArkBatch:
    """The facade for a command, with request logging and raw-response capture."""
    if verbose:
        log_to_stderr(ctx)
    from ark_batch.connect import resolve_endpoint  # noqa: PLC0415
    from ark_batch.facade import ArkBatch  # noqa: PLC0415

    settings = resolve(endpoint, region, profile)
    current = state(ctx)
    current.endpoint = resolve_endpoint(settings.endpoint)
    log = HttpLog()
    current.http_log = log
    return ArkBatch(
        current.endpoint,
        credentials=settings.credentials,
        region=settings.region,
        deadline=current.http_timeout,
        on_response=log.on_response,
        httpx_args={"event_hooks": log.event_hooks()},
        # Ctrl-C must stop a command at once; pyreqwest's blocking call would hold it
        # until the read timeout, and a command's CPU per call does not matter.
        sync_transport="httpx",
    )
