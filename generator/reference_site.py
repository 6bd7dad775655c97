"""Render the HTML API reference from the spec: one self-contained, offline page.

``python -m generator.reference_site [OUTPUT]`` runs the pinned Redocly CLI with the
Redoc scripts inlined, then points the few assets Redoc still fetches from a CDN (its
attribution logo, its icon sets) at inline data, so opening the page makes no request.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"
CONFIG = ROOT / "generator" / "redocly-docs.yaml"
REDOCLY = "@redocly/cli@2.77.0"
DEFAULT_OUTPUT = ROOT / "site" / "index.html"

# A plain wordmark in place of the logo Redoc loads from its CDN.
_LOGO = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='80' height='16'%3E"
    "%3Ctext x='0' y='12' font-family='sans-serif' font-size='12'%3ERedoc%3C/text%3E%3C/svg%3E"
)
#: Remote addresses in Redoc's bundle and what the offline page uses instead.
OFFLINE_ASSETS = {
    "https://cdn.redoc.ly/redoc/logo-mini-full.svg": _LOGO,
    "https://cdn.redoc.ly/redoc/logo-mini.svg": _LOGO,
    # Icon sets: the spec uses none, so an empty base never resolves to the network.
    "https://cdn.redocly.com/icons/fa/7.0.0": "data:,",
    "https://cdn.redocly.com/icons/code/5.24.0": "data:,",
}
#: Hosts no part of the page may load from.
CDN_HOSTS = ("cdn.redoc.ly", "cdn.redocly.com", "cdn.jsdelivr.net", "unpkg.com")
#: What build-docs writes into the page's Redoc options when telemetry is off; without
#: it the open page posts usage traces to Redocly's collector.
TELEMETRY_OFF = '"disableTelemetry":true'


class ReferenceSiteError(RuntimeError):
    """The page could not be built, still refers to a CDN, or would send telemetry."""


def make_offline(html: str) -> str:
    """``html`` with every CDN asset Redoc fetches replaced by inline data.

    Raises :class:`ReferenceSiteError` when a CDN host is left or telemetry is on.
    """
    if TELEMETRY_OFF not in html:
        raise ReferenceSiteError(
            "the page would send usage telemetry to Redocly: keep `telemetry: off` in "
            "generator/redocly-docs.yaml"
        )
    for remote, local in OFFLINE_ASSETS.items():
        html = html.replace(remote, local)
    left = [host for host in CDN_HOSTS if host in html]
    if left:
        raise ReferenceSiteError(
            f"the page still loads from {', '.join(left)}: the Redoc bundle changed, "
            "extend OFFLINE_ASSETS"
        )
    return html


def build(output: Path = DEFAULT_OUTPUT) -> Path:
    """Render the spec to ``output`` (an offline HTML page) and return its path."""
    npx = shutil.which("npx")
    if npx is None:
        raise ReferenceSiteError("npx (Node.js) is needed to render the reference")
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [npx, "--yes", REDOCLY, "build-docs", str(SPEC), "--inlineBundle"]
    command += ["--config", str(CONFIG)]
    completed = subprocess.run(
        [*command, "--output", str(output)], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise ReferenceSiteError(f"redocly build-docs failed:\n{completed.stderr[-2000:]}")
    output.write_text(make_offline(output.read_text(encoding="utf-8")), encoding="utf-8")
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    try:
        path = build(args.output)
    except ReferenceSiteError as exc:
        print(f"reference_site: {exc}", file=sys.stderr)
        return 1
    print(f"API reference written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
