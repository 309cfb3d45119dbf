"""The dashboard, clicked in a real browser (Playwright driving Debian's chromium): each control is
used as a person would, and its effect is checked through the control API. A second page, on
another origin, polls a job while the test pauses, steps and resumes the clock."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import Served, page_server, serving
from conftest import http, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="Debian's chromium is not installed (apt-get install -y chromium)",
    ),
]

WEB_TOKEN = "capy_live_web_0123456789abcdef"


def control(served: Served, route: str) -> Any:
    return http(f"{served.url}/_capymock/{route}").body


def wait_until(page: Any, predicate: Any, what: str) -> None:
    """Poll `predicate()` (reading the API) while the page works; the dashboard polls every second."""
    wait_for(predicate, what)


def test_every_dashboard_control_does_what_it_says(browser: Any, tmp_path: Path) -> None:
    scenario = tmp_path / "mine.yaml"
    scenario.write_text(Path("capymock/scenarios/retry-then-succeed.yaml").read_text())
    with serving(["--scenario", str(scenario), "--paused", "--reload", "--quiet"]) as served:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{served.url}/_capymock/")
        page.wait_for_selector("tr[data-job=job_deploy_1]")
        assert page.inner_text("#pause") == "Resume"

        # Clock: a speed runs it, Pause stops it, Resume runs it again.
        page.select_option("#speed", "10")
        wait_until(
            page,
            lambda: (lambda c: (c["speed"], c["paused"]) == (10, False))(control(served, "clock")),
            "10x",
        )
        page.click("#pause")
        wait_until(page, lambda: control(served, "clock")["paused"], "paused")
        page.wait_for_function("document.getElementById('pause').textContent === 'Resume'")
        page.click("#pause")
        wait_until(page, lambda: not control(served, "clock")["paused"], "running again")
        page.click("#pause")
        wait_until(page, lambda: control(served, "clock")["paused"], "paused again")

        # Advance and next step move the clock; reset goes back.
        before = control(served, "state")["now"]
        page.click("button[data-seconds='60']")
        wait_until(page, lambda: control(served, "state")["now"] > before, "the clock advanced")
        page.click("#reset")
        wait_until(page, lambda: control(served, "state")["now"] == "2026-01-01T09:00:00Z", "reset")
        page.click("#next-step")
        wait_until(
            page, lambda: control(served, "jobs/job_deploy_1")["job"]["state"] == "claimed", "next step"
        )

        # The state picker offers only the legal next states, and a move stops the script.
        page.wait_for_function("document.querySelectorAll('tr[data-job=job_deploy_1] option').length === 4")
        options = page.eval_on_selector(
            "tr[data-job=job_deploy_1] select", "s => [...s.options].map(o => o.value)"
        )
        assert (
            options
            == control(served, "state")["legal_next"]["job_deploy_1"]
            == ["running", "pending", "failed", "cancelled"]
        )
        page.select_option("tr[data-job=job_deploy_1] select", "cancelled")
        page.click("tr[data-job=job_deploy_1] button")
        wait_until(
            page, lambda: control(served, "jobs/job_deploy_1")["job"]["state"] == "cancelled", "cancelled"
        )
        page.wait_for_selector("tr[data-job=job_deploy_1] .final")
        assert "scripted steps are stopped" in page.inner_text("#message-text")

        # Add a job.
        page.fill("#add-id", "job_clicked")
        page.fill("#add-project", "proj_web")
        page.select_option("#add-state", "running")
        page.click("#add-job button[type=submit]")
        wait_until(page, lambda: http(f"{served.url}/_capymock/jobs/job_clicked").status == 200, "job added")
        assert control(served, "jobs/job_clicked")["job"]["state"] == "running"
        # A mistyped project is refused with a hint; the checkbox makes a new one.
        page.fill("#add-id", "job_new_project")
        page.fill("#add-project", "proj_wbe")
        page.click("#add-job button[type=submit]")
        page.wait_for_function("document.querySelector('#message-text').innerText.includes('did you mean')")
        assert "'proj_web'" in page.inner_text("#message-text")
        assert http(f"{served.url}/_capymock/jobs/job_new_project").status == 404
        page.check("#add-create")
        page.click("#add-job button[type=submit]")
        wait_until(
            page, lambda: http(f"{served.url}/_capymock/jobs/job_new_project").status == 200, "created"
        )
        assert control(served, "jobs/job_new_project")["job"]["project_id"] == "proj_wbe"

        # Arm a fault, see it bite, clear it.
        page.fill("#fault-path", "/v1/jobs/{jobID}")
        page.fill("#fault-status", "503")
        page.fill("#fault-times", "1")
        page.click("#add-fault button[type=submit]")
        wait_until(page, lambda: len(control(served, "faults")["faults"]) == 1, "fault armed")
        auth = {"Authorization": f"Bearer {WEB_TOKEN}"}
        assert http(f"{served.url}/v1/jobs/job_clicked", headers=auth).status == 503
        page.fill("#fault-path", "/v1/projects/{projectID}/jobs")
        page.click("#add-fault button[type=submit]")
        wait_until(page, lambda: len(control(served, "faults")["faults"]) == 1, "second fault armed")
        page.click("#clear-faults")
        wait_until(page, lambda: control(served, "faults")["faults"] == [], "faults cleared")

        # The request journal: live, filtered by path and status, cleared.
        http(f"{served.url}/v1/jobs/nope", headers=auth)
        http(f"{served.url}/v1/projects/proj_web/jobs", headers=auth)
        page.wait_for_selector("tr[data-request='/v1/jobs/nope']")
        page.fill("#filter-status", "404")
        page.wait_for_function("document.querySelectorAll('#requests tr').length === 1")
        assert "/v1/jobs/nope" in page.inner_text("#requests")
        page.fill("#filter-status", "")
        page.fill("#filter-path", "/v1/projects/")
        page.wait_for_function(
            "[...document.querySelectorAll('#requests tr')]"
            ".every(r => r.dataset.request.startsWith('/v1/projects/'))"
        )
        page.click("#clear-requests")
        wait_until(page, lambda: control(served, "requests")["requests"] == [], "journal cleared")

        # Load a scenario by name.
        page.fill("#scenario-name", "happy-path")
        page.click("#scenario-form button[type=submit]")
        wait_until(page, lambda: control(served, "state")["scenario"] == "happy-path", "scenario loaded")

        # A reload that fails is shown, and disappears once a good edit is loaded.
        scenario.write_text("projects: [p]\njobs: [{id: j, project: q}]\n")
        page.wait_for_selector("#reload-error:not([hidden])", timeout=15000)
        assert "'q' is not a declared project" in page.inner_text("#reload-error")
        scenario.write_text("name: fixed\nprojects: [p]\n")
        page.wait_for_selector("#reload-error[hidden]", state="attached", timeout=15000)
        assert errors == []


POLLER = """<!doctype html><meta charset="utf-8"><script>
window.seen = [];
window.polls = 0;
async function poll(mock, token) {
  for (;;) {
    const r = await fetch(mock + "/v1/jobs/job_deploy_1", {headers: {Authorization: "Bearer " + token}});
    const job = (await r.json()).job;
    const last = window.seen[window.seen.length - 1];
    if (!last || last.state !== job.state) window.seen.push({state: job.state, attempts: job.attempts});
    window.polls = (window.polls || 0) + 1;
    if (job.state === "succeeded") return;
    await new Promise((done) => setTimeout(done, 50));
  }
}
</script>"""


@pytest.fixture
def poller_page() -> Iterator[str]:
    with page_server(POLLER) as url:
        yield url


WALK = ["pending", "claimed", "running", "failed", "pending", "claimed", "running", "succeeded"]


RETRY_CLAIM = 5
"""The retry's claim (`after_polls: 2`): fired by two of the page's reads, not by the clock."""


def step_through(page: Any, control_url: str) -> None:
    """Step a paused job_deploy_1 of retry-then-succeed to success, each step once the page has
    seen the one before: it sees every state, however slowly it polls."""
    for index, expected in enumerate(WALK[1:], start=1):
        if index != RETRY_CLAIM:
            http(f"{control_url}/advance", "POST", None, {"to": "next_step"})
        page.wait_for_function(
            f"window.seen.length === {index + 1} && window.seen[{index}].state === '{expected}'"
        )


def in_order(part: list[str], whole: list[str]) -> bool:
    """Whether `part` is `whole` with some entries left out."""
    rest = iter(whole)
    return all(any(entry == later for later in rest) for entry in part)


def test_a_polling_page_sees_every_state_while_the_test_steps_the_clock(
    browser: Any, poller_page: str
) -> None:
    with serving(["--scenario", "retry-then-succeed", "--paused", "--quiet"]) as served:
        page = browser.new_page()
        page.goto(poller_page)
        page.evaluate("([mock, token]) => { window.done = poll(mock, token); }", [served.url, WEB_TOKEN])
        page.wait_for_function("window.seen.length === 1")
        # Paused: nothing moves, however often the page polls.
        page.wait_for_function("window.polls >= 10")
        assert page.evaluate("window.seen.map(s => s.state)") == ["pending"]
        step_through(page, f"{served.url}/_capymock")
        seen = page.evaluate("window.seen")
    assert [s["state"] for s in seen] == WALK
    assert [s["attempts"] for s in seen] == [0, 1, 1, 1, 1, 2, 2, 2]


def test_two_pages_on_two_sessions_each_see_their_own_job_move(browser: Any, poller_page: str) -> None:
    with serving(["--scenario", "demo", "--quiet"]) as served:
        sessions = [
            http(f"{served.url}/_capymock/sessions", "POST", None, {"scenario": "retry-then-succeed"}).body
            for _ in range(2)
        ]
        pages = [browser.new_page() for _ in sessions]
        for page, session in zip(pages, sessions, strict=True):
            page.goto(poller_page)
            page.evaluate(
                "([mock, token]) => { window.done = poll(mock, token); }", [session["base_url"], WEB_TOKEN]
            )
        # The first session is stepped through its script; the second stays where it is.
        first, second = sessions
        step_through(pages[0], first["control_url"])
        pages[1].wait_for_function("window.polls >= 10")
        assert [s["state"] for s in pages[1].evaluate("window.seen")] == ["pending"]
        # Now the second one, at its own pace: it runs to success by itself, in the script's order.
        http(f"{second['control_url']}/clock", "POST", None, {"speed": 3})
        pages[1].wait_for_function("window.seen[window.seen.length - 1].state === 'succeeded'", timeout=60000)
        assert [s["state"] for s in pages[0].evaluate("window.seen")] == WALK
        states = [s["state"] for s in pages[1].evaluate("window.seen")]
        assert states[0] == "pending" and states[-1] == "succeeded" and in_order(states, WALK), states
        assert http(f"{served.url}/_capymock/state").body["scenario"] == "demo"


def test_the_dashboard_lists_the_sessions_and_opens_one(browser: Any) -> None:
    with serving(["--scenario", "demo", "--quiet"]) as served:
        session = http(
            f"{served.url}/_capymock/sessions", "POST", None, {"scenario": "retry-then-succeed"}
        ).body
        page = browser.new_page()
        page.goto(f"{served.url}/_capymock/")
        page.wait_for_selector(f"a[data-session='{session['id']}']")
        page.click(f"a[data-session='{session['id']}']")
        page.wait_for_selector("tr[data-job=job_deploy_1]")
        assert f"session {session['id']}" in page.inner_text("#scenario")
        page.wait_for_function("document.querySelector('#speed').value === 'virtual'")  # no speed: virtual
        assert "(moves with Advance)" in page.inner_text("#clock-state")
        page.click("#next-step")  # steers the session, not the server's own mock
        wait_until(
            page,
            lambda: http(f"{session['control_url']}/jobs/job_deploy_1").body["job"]["state"] == "claimed",
            "stepped",
        )
        assert (
            http(f"{served.url}/_capymock/state").body["now"]
            != http(f"{session['control_url']}/state").body["now"]
        )
        page.goto(f"{served.url}/_capymock/")
        page.wait_for_selector(f"a[data-session='{session['id']}']")
        page.click(f"tr:has(a[data-session='{session['id']}']) button")
        wait_until(page, lambda: http(f"{served.url}/_capymock/sessions").body["sessions"] == [], "ended")
