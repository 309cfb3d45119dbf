"""`capymock serve` on a developer's laptop, attacked as a web page or a local script would.

No file outside the served folders is read through the control API; pages of other origins
cannot steer the mock (preflighted or "simple" requests alike) while they can still call the
Capy API; a `Host` that is not the mock's (DNS rebinding) is refused; signals always stop it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_helpers import Served, page_server, serving
from conftest import BROWSER_ARGS, CHROMIUM, http, needs_chromium

pytestmark = pytest.mark.slow

EVIL = "https://evil.example"
MINE = """name: mine
start: '2026-01-01T09:00:00Z'
projects: [proj_web]
jobs: [{id: job_1, project: proj_web}]
"""
OTHER = "name: other\nprojects: [proj_other]\n"
SECRET = "projects: [proj_secret]  # the-secret-text\n"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("laptop")
    served = root / "served"
    served.mkdir()
    (served / "mine.yaml").write_text(MINE)
    (served / "other.yaml").write_text(OTHER)
    (root / "outside").mkdir()
    (root / "outside" / "secret.yaml").write_text(SECRET)
    (served / "link.yaml").symlink_to(root / "outside" / "secret.yaml")
    (served / "passwd.yaml").symlink_to("/etc/passwd")
    return root


@pytest.fixture(scope="module")
def laptop(folders: Path) -> Iterator[Served]:
    """Paused, so any move of its clock (an `advance` that got through) shows, to the second."""
    with serving(["--scenario", str(folders / "served" / "mine.yaml"), "--paused", "--quiet"]) as served:
        yield served


def _control(served: Served, method: str, route: str, body: object = None, **headers: str) -> object:
    return http(f"{served.url}/_capymock/{route}", method, headers, body)


def _state(served: Served) -> dict:
    reply = http(f"{served.url}/_capymock/state")
    assert reply.status == 200
    return reply.body


@pytest.mark.parametrize(
    "name",
    [
        "/etc/passwd",
        "../../../../etc/hostname",
        "../outside/secret.yaml",
        "link.yaml",  # a symlink inside the folder to a file outside it
        "passwd.yaml",
    ],
)
def test_the_control_api_reads_no_file_outside_the_served_folders(
    laptop: Served, folders: Path, name: str
) -> None:
    before = _state(laptop)
    reply = _control(laptop, "POST", "scenario", {"name": name})
    assert reply.status == 403, reply.raw
    text = reply.body["error"]
    assert "root:" not in text and "the-secret-text" not in text and "proj_secret" not in text
    assert str((folders / "served").resolve()) in text  # names the folder it loads from
    assert _state(laptop)["scenario"] == before["scenario"]


def test_a_file_in_the_served_folder_loads_by_its_name(laptop: Served) -> None:
    reply = _control(laptop, "POST", "scenario", {"name": "other.yaml"})
    assert (reply.status, reply.body["scenario"]) == (200, "other")
    assert _control(laptop, "POST", "scenario", {"name": "mine.yaml"}).body["scenario"] == "mine"
    assert _control(laptop, "POST", "scenario", {"name": "happy-path"}).body["scenario"] == "happy-path"
    assert _control(laptop, "POST", "scenario", {"name": "mine.yaml"}).status == 200


def test_scenarios_dir_allows_one_more_folder(folders: Path) -> None:
    with serving(["--scenarios-dir", str(folders / "outside"), "--quiet"]) as served:
        assert _control(served, "POST", "scenario", {"name": "secret.yaml"}).status == 200
        refused = _control(served, "POST", "scenario", {"name": str(folders / "served" / "mine.yaml")})
        assert refused.status == 403


def test_a_preflight_from_another_origin_gets_no_cors(laptop: Served) -> None:
    reply = _control(
        laptop,
        "OPTIONS",
        "scenario",
        Origin=EVIL,
        **{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert reply.status == 403
    assert "Access-Control-Allow-Origin" not in reply.headers
    assert "--allow-origin" in reply.body["error"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_simple_cross_origin_write_changes_nothing(laptop: Served, content_type: str) -> None:
    before = _state(laptop)["now"]
    body = b'{"seconds": 3600}'
    refused = _control(laptop, "POST", "advance", body, Origin=EVIL, **{"Content-Type": content_type})
    assert refused.status == 403 and "Access-Control-Allow-Origin" not in refused.headers
    # Without an Origin (an old browser, a proxy that drops it) the body type alone is refused.
    typed = _control(laptop, "POST", "advance", body, **{"Content-Type": content_type})
    assert typed.status == 415 and "application/json" in typed.body["error"]
    assert _state(laptop)["now"] == before


def test_the_own_and_loopback_origins_may_steer_it(laptop: Served) -> None:
    port = laptop.url.rsplit(":", 1)[1]
    for origin in (laptop.url, f"http://localhost:{port}", f"http://[::1]:{port}"):
        reply = _control(laptop, "GET", "state", Origin=origin)
        assert (reply.status, reply.headers["Access-Control-Allow-Origin"]) == (200, origin)
        preflight = _control(
            laptop, "OPTIONS", "reset", Origin=origin, **{"Access-Control-Request-Method": "POST"}
        )
        assert (preflight.status, preflight.headers["Access-Control-Allow-Origin"]) == (204, origin)
    other_port = _control(laptop, "GET", "state", Origin="http://localhost:5173")
    assert other_port.status == 403


def test_allow_origin_admits_a_dev_server() -> None:
    with serving(["--allow-origin", "http://localhost:5173", "--quiet"]) as served:
        reply = _control(served, "POST", "reset", {}, Origin="http://localhost:5173")
        assert (reply.status, reply.headers["Access-Control-Allow-Origin"]) == (200, "http://localhost:5173")
        assert _control(served, "POST", "reset", {}, Origin="http://localhost:5174").status == 403


def test_a_bad_allow_origin_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "capymock", "serve", "--allow-origin", "localhost:5173"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "expected an origin such as http://localhost:5173" in result.stderr


def test_the_capy_api_stays_open_to_any_origin(laptop: Served) -> None:
    _control(laptop, "POST", "scenario", {"name": "mine.yaml"})
    reply = http(
        f"{laptop.url}/v1/jobs/job_1", headers={"Authorization": f"Bearer {laptop.token}", "Origin": EVIL}
    )
    assert (reply.status, reply.headers["Access-Control-Allow-Origin"]) == (200, EVIL)


@pytest.mark.parametrize("path", ["/_capymock/state", "/v1/jobs/job_1", "/_capymock/"])
def test_a_foreign_host_is_misdirected(laptop: Served, path: str) -> None:
    port = laptop.url.rsplit(":", 1)[1]
    auth = {"Authorization": f"Bearer {laptop.token}"}
    rebound = http(f"{laptop.url}{path}", headers={**auth, "Host": f"evil.example:{port}"})
    assert rebound.status == 421
    assert "DNS rebinding" in rebound.body["error"] and "--allow-host evil.example" in rebound.body["error"]
    assert http(f"{laptop.url}{path}", headers={**auth, "Host": f"localhost:{port}"}).status == 200


def test_allow_host_admits_a_name() -> None:
    with serving(["--allow-host", "mock.test", "--quiet"]) as served:
        port = served.url.rsplit(":", 1)[1]
        assert http(f"{served.url}/_capymock/state", headers={"Host": f"mock.test:{port}"}).status == 200
        assert http(f"{served.url}/_capymock/state", headers={"Host": f"mock.tests:{port}"}).status == 421


def test_the_dashboard_cannot_be_framed(laptop: Served) -> None:
    page = http(f"{laptop.url}/_capymock/")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_serve_started_in_the_background_of_a_script_stops_on_sigint(tmp_path: Path) -> None:
    """`capymock serve &` in a non-interactive shell inherits SIGINT as ignored."""
    out = tmp_path / "out.txt"
    script = (
        f"{sys.executable} -m capymock serve --port 0 --quiet > {out} 2>&1 & "
        f"until grep -q 'Press Ctrl-C' {out}; do sleep 0.1; done; kill -INT $!; wait $!"
    )
    done = subprocess.run(["bash", "-c", script], timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 0
    assert "capymock: stopped" in out.read_text()


# -- a real browser on another origin ---------------------------------------------------------


ATTACK_PAGE = """<!doctype html><meta charset="utf-8"><title>elsewhere</title><script>
async function attempt(what, run) {
  try { const r = await run(); return what + ":" + r.status; } catch (e) { return what + ":blocked"; }
}
async function main(mock, token) {
  const results = [];
  results.push(await attempt("poll", async () => {
    const r = await fetch(mock + "/v1/jobs/job_1", {headers: {Authorization: "Bearer " + token}});
    const body = await r.json();
    return {status: r.status + ":" + body.job.state};
  }));
  results.push(await attempt("json-post", () => fetch(mock + "/_capymock/advance", {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({seconds: 3600})})));
  results.push(await attempt("simple-post", () => fetch(mock + "/_capymock/advance", {
    method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"seconds": 3600}'})));
  results.push(await attempt("read-state", () => fetch(mock + "/_capymock/state")));
  results.push(await attempt("load-file", () => fetch(mock + "/_capymock/scenario", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({name: "/etc/passwd"})})));
  return results;
}
</script>"""


@pytest.fixture
def elsewhere() -> Iterator[str]:
    """A page on another origin (a different loopback port), as a site the developer visits."""
    with page_server(ATTACK_PAGE) as url:
        yield url


@needs_chromium
def test_a_page_on_another_origin_can_poll_the_api_but_not_steer_the_mock(
    laptop: Served, elsewhere: str
) -> None:
    from playwright.sync_api import sync_playwright

    _control(laptop, "POST", "scenario", {"name": "mine.yaml"})
    before = _state(laptop)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.goto(elsewhere)
            results = page.evaluate("([mock, token]) => main(mock, token)", [laptop.url, laptop.token])
        finally:
            browser.close()
    assert results == [
        "poll:200:pending",
        "json-post:blocked",  # its preflight was refused, so the POST was never sent
        "simple-post:blocked",  # sent without a preflight, refused, its answer withheld (CORP)
        "read-state:blocked",
        "load-file:blocked",
    ]
    after = _state(laptop)  # every request the page sent was answered before `main` returned
    assert (after["now"], after["scenario"], after["clock"]["paused"]) == (
        before["now"],
        before["scenario"],
        True,
    )
