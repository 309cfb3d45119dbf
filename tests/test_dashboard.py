"""The dashboard page at `GET /_capymock/`: served as HTML, calls only control routes that
exist, and (where Debian's chromium is installed) renders the demo scenario's jobs."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import capymock
from conftest import CHROMIUM, http, needs_chromium

PAGE = Path(capymock.__file__).parent / "web" / "dashboard.html"
TITLE = "capymock dashboard"
# Quoted path literals in the page's JS: '/_capymock/state', "/_capymock/jobs/" + id, ...
CONTROL_PATH = re.compile(r"""["'`](/_capymock/[A-Za-z0-9_./{}-]*)["'`]""")


@pytest.fixture(scope="module")
def demo() -> Iterator[capymock.Mock]:
    with capymock.serve("demo") as mock:
        yield mock


def _script_paths() -> set[str]:
    script = PAGE.read_text(encoding="utf-8").split("<script>", 1)[1]
    return set(CONTROL_PATH.findall(script))


def test_dashboard_is_served_as_html(demo: capymock.Mock) -> None:
    reply = http(f"{demo.url}/_capymock/")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert f"<title>{TITLE}</title>" in reply.raw.decode("utf-8")


def test_dashboard_is_served_without_the_control_token() -> None:
    # The page must load so that it can ask for the token; the routes it calls stay guarded.
    with capymock.serve("demo", control_token="s3cret") as mock:
        assert http(f"{mock.url}/_capymock/").status == 200
        assert http(f"{mock.url}/_capymock/state").status == 401
        authorized = http(f"{mock.url}/_capymock/state", headers={"Authorization": "Bearer s3cret"})
        assert authorized.status == 200


def test_page_is_self_contained_and_never_injects_html() -> None:
    html = PAGE.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "no external resources"
    assert "innerHTML" not in html and "outerHTML" not in html and "insertAdjacentHTML" not in html
    assert "document.write" not in html


def test_every_control_path_the_page_uses_exists(demo: capymock.Mock) -> None:
    paths = _script_paths()
    # The regex must find what the page needs, or this test proves nothing.
    expected = {"/_capymock/state", "/_capymock/advance", "/_capymock/reset", "/_capymock/scenario"}
    assert expected <= paths, f"found only {sorted(paths)}"
    assert "/_capymock/jobs/" in paths
    for path in sorted(paths):
        url = demo.url + path + ("job_demo_build" if path.endswith("/jobs/") else "")
        for method in ("GET", "POST"):
            reply = http(url, method)
            assert reply.status != 404, f"{method} {path}: {reply.status} {reply.raw[:200]!r}"
            if reply.status != 405:
                break


def _chromium(*args: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", *args],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@needs_chromium
@pytest.mark.slow
def test_rendered_page_shows_the_demo_jobs(demo: capymock.Mock) -> None:
    dom = _chromium("--virtual-time-budget=3000", "--dump-dom", f"{demo.url}/_capymock/")
    assert "job_demo_build" in dom
    assert "job_demo_deploy" in dom
    assert 'id="scenario">demo<' in dom
    assert 'class="badge s-failed">failed<' in dom


@needs_chromium
@pytest.mark.slow
def test_rendered_page_asks_for_the_control_token() -> None:
    with capymock.serve("demo", control_token="s3cret") as mock:
        dom = _chromium("--virtual-time-budget=3000", "--dump-dom", f"{mock.url}/_capymock/")
    assert '<section id="tokenbar">' in dom, "the token form should be visible after a 401"
    assert "job_demo_build" not in dom
