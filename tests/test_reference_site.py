"""The HTML reference (`nox -s docs`), rendered in a real headless Chromium, offline.

Skipped, with the reason, where Node.js (to render) or Chromium (to load) is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import Browser, chromium_binary

from ark_batch.spec import ACTIONS, API_VERSION, operation
from generator.reference_site import CDN_HOSTS, ReferenceSiteError, build, make_offline

# Wait (in the page) until the rendered text holds every string, or give up after 30 s.
_WAIT_FOR = """
(async (needles) => {
  for (let i = 0; i < 300; i++) {
    const text = document.body ? document.body.innerText : "";
    if (needles.every((n) => text.includes(n))) return text;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return document.body ? document.body.innerText : "";
})(%s)
"""
# Click the response-sample tab of a status (the last button of that label on the page).
_SHOW_RESPONSE_SAMPLE = """
(() => {
  const tabs = [...document.querySelectorAll("button")].filter(
    (b) => b.innerText.trim() === %s);
  tabs[tabs.length - 1].click();
  return tabs.length;
})()
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("npx") is None:
        pytest.skip("npx (Node.js) is not installed, so the reference cannot be rendered")
    return build(tmp_path_factory.mktemp("site") / "index.html")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    with Browser(binary) as running:
        yield running


def test_the_page_names_no_cdn(site: Path) -> None:
    html = site.read_text(encoding="utf-8")
    assert [host for host in CDN_HOSTS if host in html] == []


def test_the_rendered_page_shows_operations_an_error_example_and_a_code_sample(
    site: Path, browser: Browser
) -> None:
    page = browser.open(f"{site.as_uri()}#batchinferencejob")
    summaries = [operation(action)["summary"] for action in ACTIONS]
    request_line = f"POST /?Action={ACTIONS[0]}&Version={API_VERSION}"
    text = page.evaluate(_WAIT_FOR % repr([*summaries, request_line]).replace("'", '"'))
    for summary in summaries:
        assert summary in text
    assert request_line in text
    # The first code-sample tab, the facade, is what the request panel shows.
    assert "Python (ArkBatch)" in text
    assert "ark.create_job(" in text

    assert page.evaluate(_SHOW_RESPONSE_SAMPLE % '"401"') >= 1
    text = page.evaluate(_WAIT_FOR % '["\\"Code\\": \\"SignatureDoesNotMatch\\""]')
    assert '"Code": "SignatureDoesNotMatch"' in text
    assert '"CodeN": 100010' in text

    # Fully offline: the page asked for nothing but itself and inline data.
    remote = [url for url in page.requests if url.startswith(("http:", "https:"))]
    assert remote == []


def test_a_page_that_would_send_telemetry_is_refused() -> None:
    with pytest.raises(ReferenceSiteError, match="telemetry"):
        make_offline('const __redoc_options = {"disableTelemetry":false};')
