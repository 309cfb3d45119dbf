"""The timeline: the batched lanes route over HTTP, `capymock show` as a subprocess, and both
pages clicked in Debian's chromium (Playwright): a served mock's timeline followed through the
retry of `retry-then-succeed`, a session's, a thousand jobs, and `show`'s pages without network."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import CAPYMOCK, Served, serving
from conftest import ROOT, http, needs_chromium

WEB_TOKEN = "capy_live_web_0123456789abcdef"
STEPS = ["pending", "claimed", "running", "failed", "pending", "claimed", "running", "succeeded"]
pytestmark = pytest.mark.slow

SMALL = """\
name: small
start: "2026-03-01T12:00:00Z"
organization: org_demo
projects: [proj_a]
jobs:
  - id: job_build
    project: proj_a
    type: build
    steps:
      - state: pending
      - {after: 2s, state: claimed, claimed_by: w1}
      - {after: 1m, state: running}
      - {after_polls: 3, state: succeeded, last_exit_code: 0}
  - id: job_old
    project: proj_a
    type: test
    age: 5m
    steps:
      - state: pending
      - {after: 30s, state: cancelled}
  - id: job_later
    project: proj_a
    steps:
      - {after: 10s, state: pending}
      - {after: 5s, state: cancelled}
"""

RECORDING = """\
# yaml-language-server: $schema=../schemas/scenario.schema.json
# Recorded by capymock record from http://deploy.example
# on 2026-02-02T10:00:00Z, polling every 1s
# `after` is the gap the deployment's own timestamps show between two states.
name: recorded
start: "2026-02-02T10:00:00Z"
organization: org_rec
projects: [proj_rec]
tokens:
  - {token: capy_live_recorded_0123456789ab, project: proj_rec}
jobs:
  - id: job_rec_1
    project: proj_rec
    type: deploy
    max_attempts: 2
    age: 20s
    steps:
      - {state: pending}
      - {age: 19s, state: claimed, claimed_by: "</script><img src=x onerror=alert(1)>"}
      - {age: 15s, state: running}
      - {after: 7s, state: failed, error: out of memory, last_exit_code: 137}
faults:
  - {match: {path: /v1/jobs/job_rec_1}, status: 503, times: 1}
"""


def control(served: Served, route: str) -> Any:
    return http(f"{served.url}/_capymock/{route}").body


def show(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CAPYMOCK, "show", *args], capture_output=True, text=True, timeout=120)


# -- the lanes route ------------------------------------------------------------------------------


def test_the_history_route_answers_every_matched_lane_in_one_bounded_page() -> None:
    with serving(["--scenario", "retry-then-succeed", "--paused", "--quiet"]) as served:
        every = control(served, "history?limit=1000")
        assert every["total"] == len(every["lanes"]) == len(control(served, "jobs")["jobs"]) == 41
        assert every["lanes"][0]["job_id"] == "job_deploy_1"
        one = control(served, "jobs/job_deploy_1/history")
        lane = every["lanes"][0]
        assert {k: lane[k] for k in one} == one
        assert lane["job"] == control(served, "jobs/job_deploy_1")["job"]
        assert every["start"] <= every["now"] == "2026-01-01T09:00:00Z" < every["end"]

        page = control(served, "history?offset=10&limit=5")
        assert (page["total"], page["offset"], len(page["lanes"])) == (41, 10, 5)
        assert [lane["job_id"] for lane in page["lanes"]] == [
            lane["job_id"] for lane in every["lanes"][10:15]
        ]
        deploys = control(served, "history?type=deploy&state=pending&project=proj_web")
        assert [lane["job_id"] for lane in deploys["lanes"]] == ["job_deploy_1"]
        assert control(served, "history?project=proj_nope")["total"] == 0
        for bad in ("limit=1001", "limit=0", "offset=-1", "colour=red", "limit=1&limit=2"):
            reply = http(f"{served.url}/_capymock/history?{bad}")
            assert reply.status == 400, (bad, reply.body)

        # A fault is marked on the lanes whose reads it would hit, and only those.
        armed = http(f"{served.url}/_capymock/faults", "POST", None,
                     {"match": {"path": "/v1/jobs/job_deploy_1"}, "status": 503})  # fmt: skip
        assert armed.status == 201
        lanes = {lane["job_id"]: lane["faults"] for lane in control(served, "history?limit=1000")["lanes"]}
        assert lanes.pop("job_deploy_1") == [0]
        assert set(map(tuple, lanes.values())) == {()}


def test_the_timeline_page_is_served_and_its_data_asks_for_the_control_token() -> None:
    args = ["--scenario", "retry-then-succeed", "--paused", "--quiet", "--control-token", "t0ken"]
    with serving(args) as served:
        page = http(f"{served.url}/_capymock/timeline")
        assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
        assert b'id="capymock-data"' in page.raw
        assert http(f"{served.url}/_capymock/history").status == 401
        allowed = http(f"{served.url}/_capymock/history?limit=1", headers={"Authorization": "Bearer t0ken"})
        assert allowed.status == 200 and allowed.body["total"] == 41


# -- capymock show --text -------------------------------------------------------------------------


def test_show_text_prints_one_line_a_job(tmp_path: Path) -> None:
    small = tmp_path / "small.yaml"
    small.write_text(SMALL)
    done = show(str(small), "--text")
    assert done.returncode == 0, done.stderr
    # Newest first: a job the script creates later, then the others by creation, newest first.
    assert done.stdout == (
        "job_later  pending 12:00:10 → cancelled +5s\n"
        "job_build  pending 12:00:00 → claimed +2s → running +1m → succeeded after 3 reads\n"
        "job_old    pending 11:55:00 → cancelled +330s\n"
    )


def test_show_text_says_when_a_jobs_changes_are_past_the_historys_bound(tmp_path: Path) -> None:
    # 6,000 filler jobs walked through the lifecycle make more changes than a world keeps
    # (10,000): the newest in time are kept, the oldest jobs' lines say theirs are gone, and
    # every job has its line (newest first).
    many = tmp_path / "many.yaml"
    many.write_text(
        'name: many\nstart: "2026-01-01T09:00:00Z"\norganization: org_demo\nprojects: [p]\n'
        "jobs:\n  - {generate: 6000, project: p}\n"
    )
    done = show(str(many), "--text")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 6000
    gone = [line for line in lines if line.endswith("(its changes are not kept)")]
    # Newest first: the jobs whose changes are gone are the oldest (at the cut, jobs that ran at
    # once may keep their last change).
    assert lines.index(gone[0]) > len(lines) // 4 and lines[-1] == gone[-1]
    assert all(" → " not in line for line in gone)
    assert " → " in lines[0]


def test_show_of_a_broken_file_is_one_located_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(SMALL.replace("project: proj_a\n    type: build", "projct: proj_a\n    type: build"))
    done = show(str(broken), "--text")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"capymock show: {broken}:") and "Traceback" not in done.stderr
    missing = show(str(tmp_path / "nothing.yaml"), "-o", str(tmp_path / "x.html"))
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1, missing.stderr
    assert not (tmp_path / "x.html").exists()


# -- in chromium ----------------------------------------------------------------------------------


def lane_states(page: Any, job: str, kind: str = ".bar") -> list[str]:
    return page.eval_on_selector_all(f"[data-lane={job}] {kind}", "els => els.map(e => e.dataset.state)")


def now_line(page: Any) -> tuple[str, float]:
    return page.eval_on_selector("#now-line", "e => [e.dataset.now, parseFloat(e.style.left)]")


def read_job(served: Served) -> None:
    reply = http(f"{served.url}/v1/jobs/job_deploy_1", headers={"Authorization": f"Bearer {WEB_TOKEN}"})
    assert reply.status == 200


@needs_chromium
def test_the_timeline_follows_the_retry_bar_by_bar(browser: Any) -> None:
    with serving(["--scenario", "retry-then-succeed", "--paused", "--quiet"]) as served:
        page = browser.new_page(viewport={"width": 1400, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{served.url}/_capymock/timeline#span=30")
        page.wait_for_selector("[data-lane=job_deploy_1] .bar")
        assert lane_states(page, "job_deploy_1") == ["pending"]
        # The script to come: four steps at their due time, dashed; three wait for reads.
        assert lane_states(page, "job_deploy_1", ".future") == ["claimed", "running", "failed", "pending"]
        assert (
            page.eval_on_selector_all(
                "[data-lane=job_deploy_1] .future, [data-lane=job_deploy_1] .chip",
                "els => els.map(e => getComputedStyle(e).borderTopStyle)",
            )
            == ["dashed"] * 7
        )
        chips = page.eval_on_selector_all(
            "[data-lane=job_deploy_1] .chip", "els => els.map(e => e.textContent)"
        )
        assert chips == ["claimed after 2 reads", "running +1s", "succeeded +3s"]

        # A poll of the job is a tick on its lane, on the bar of the state it saw.
        read_job(served)
        page.wait_for_selector("[data-lane=job_deploy_1] .tick[data-state=pending]")

        # Each advance draws one more bar, takes one dashed step away and moves the now line.
        for seen in range(1, 5):
            before = now_line(page)
            assert http(f"{served.url}/_capymock/advance", "POST", None, {"to": "next_step"}).status == 200
            page.wait_for_function(
                "n => document.querySelectorAll('[data-lane=job_deploy_1] .bar').length === n", arg=seen + 1
            )
            page.wait_for_function(
                "t => document.getElementById('now-line').dataset.now !== t", arg=before[0]
            )
            after = now_line(page)
            assert after[0] > before[0] and after[1] > before[1], (before, after)
            assert lane_states(page, "job_deploy_1") == STEPS[: seen + 1]
            assert lane_states(page, "job_deploy_1", ".future") == STEPS[seen + 1 : 5]
            read_job(served)
            page.wait_for_selector(f"[data-lane=job_deploy_1] .tick[data-state={STEPS[seen]}] >> nth=0")

        # The retry's claim waits for two reads: the chip counts them, then the claim is a bar.
        page.wait_for_function(
            "() => document.querySelector('[data-lane=job_deploy_1] .chip').textContent"
            " === 'claimed after 2 reads (1 so far)'"
        )
        read_job(served)
        page.wait_for_function(
            "() => document.querySelectorAll('[data-lane=job_deploy_1] .bar').length === 6"
        )
        for seen in (6, 7):
            assert http(f"{served.url}/_capymock/advance", "POST", None, {"to": "next_step"}).status == 200
            page.wait_for_function(
                "n => document.querySelectorAll('[data-lane=job_deploy_1] .bar').length === n", arg=seen + 1
            )
        assert lane_states(page, "job_deploy_1") == STEPS
        assert (
            page.query_selector_all("[data-lane=job_deploy_1] .future, [data-lane=job_deploy_1] .chip") == []
        )

        # The bars are the history's changes, in order, at their times; the ticks its reads.
        history = control(served, "jobs/job_deploy_1/history")
        bars = page.eval_on_selector_all(
            "[data-lane=job_deploy_1] .bar", "els => els.map(e => [e.dataset.state, e.dataset.at])"
        )
        assert bars == [[change["state"], change["at"]] for change in history["changes"]]
        lefts = page.eval_on_selector_all(
            "[data-lane=job_deploy_1] .bar", "els => els.map(e => parseFloat(e.style.left))"
        )
        assert lefts == sorted(lefts) and lefts[0] < lefts[-1]
        ticks = page.eval_on_selector_all(
            "[data-lane=job_deploy_1] .tick", "els => els.map(e => e.dataset.at)"
        )
        assert ticks == [read["at"] for read in history["reads"]] and len(ticks) == 6
        # Each tick sits on the bar of the state the read saw (the second read of the retry
        # fired the claim after its answer: it saw the job pending).
        seen_states = page.eval_on_selector_all(
            "[data-lane=job_deploy_1] .tick", "els => els.map(e => e.dataset.state)"
        )
        assert seen_states == ["pending", "claimed", "running", "failed", "pending", "pending"]
        on_bars = page.eval_on_selector_all(
            "[data-lane=job_deploy_1] .tick",
            """ticks => ticks.map(t => [...t.parentElement.querySelectorAll('.bar')].some(b =>
                b.dataset.state === t.dataset.state && b.offsetLeft <= t.offsetLeft + 1
                && t.offsetLeft <= b.offsetLeft + b.offsetWidth + 1))""",
        )
        assert on_bars == [True] * 6

        # A click on a bar shows the job as that change left it.
        page.click("[data-lane=job_deploy_1] .bar[data-index='3']")
        page.wait_for_selector("#detail:not([hidden])")
        fields = dict(
            page.eval_on_selector_all(
                "#detail tr", "rows => rows.map(r => [r.dataset.field, r.cells[1].textContent])"
            )
        )
        failed = history["changes"][3]["job"]
        assert fields["state"] == "failed" == failed["state"]
        assert fields["error"] == failed["error"] == "connection reset"
        assert fields["attempts"] == str(failed["attempts"])
        assert errors == []


@needs_chromium
def test_armed_faults_are_marked_on_the_lanes_they_hit(browser: Any) -> None:
    with serving(["--scenario", "retry-then-succeed", "--paused", "--quiet"]) as served:
        page = browser.new_page()
        page.goto(f"{served.url}/_capymock/timeline")
        page.wait_for_selector("[data-lane=job_deploy_1]")
        assert page.query_selector_all(".fault-mark") == []
        fault = {"match": {"path": "/v1/jobs/job_deploy_1"}, "status": 503}
        assert http(f"{served.url}/_capymock/faults", "POST", None, fault).status == 201
        page.wait_for_selector("[data-lane=job_deploy_1] .fault-mark")
        assert page.inner_text("[data-lane=job_deploy_1] .fault-mark") == "⚡503"
        assert len(page.query_selector_all(".fault-mark")) == 1


@needs_chromium
def test_the_now_line_runs_with_the_clock_and_stops_with_it(browser: Any) -> None:
    with serving(["--scenario", "retry-then-succeed", "--paused", "--quiet"]) as served:
        page = browser.new_page()
        page.goto(f"{served.url}/_capymock/timeline#span=60")
        page.wait_for_selector("[data-lane=job_deploy_1] .bar")
        page.wait_for_function(
            "() => document.getElementById('now-line').dataset.now === '2026-01-01T09:00:00Z'"
        )
        assert page.inner_text("#clock-state") == "(paused)"
        before = now_line(page)
        assert http(f"{served.url}/_capymock/clock", "POST", None, {"speed": 20}).status == 200
        # Running, the line moves on its own (between polls too), and the steps fire on the lanes.
        page.wait_for_function(
            "() => document.getElementById('now-line').dataset.now > '2026-01-01T09:00:03Z'"
        )
        page.wait_for_function("() => document.getElementById('clock-state').textContent === '(20\\u00d7)'")
        assert now_line(page)[1] > before[1]
        page.wait_for_selector("[data-lane=job_deploy_1] .bar[data-state=running]")
        stopped = http(f"{served.url}/_capymock/clock", "POST", None, {"paused": True}).body
        # Paused, it stands at the mock's time.
        page.wait_for_function(
            "t => document.getElementById('now-line').dataset.now === t", arg=stopped["now"]
        )


@needs_chromium
def test_a_sessions_timeline_shows_the_session(browser: Any) -> None:
    with serving(["--scenario", "happy-path", "--paused", "--quiet"]) as served:
        started = http(f"{served.url}/_capymock/sessions", "POST", None, {"scenario": "retry-then-succeed"})
        assert started.status == 201, started.body
        page = browser.new_page()
        page.goto(f"{started.body['control_url']}/")
        page.click("#timeline-link")
        page.wait_for_url(f"{started.body['control_url']}/timeline")
        page.wait_for_selector("[data-lane=job_deploy_1] .bar")
        assert page.inner_text("#title") == "retry-then-succeed"
        assert http(f"{started.body['control_url']}/advance", "POST", None, {"to": "next_step"}).status == 200
        page.wait_for_function(
            "() => document.querySelectorAll('[data-lane=job_deploy_1] .bar').length === 2"
        )
        # The server's own mock did not move.
        assert control(served, "history?limit=1")["now"] == control(served, "clock")["now"]


@needs_chromium
def test_a_thousand_jobs_draw_only_the_lanes_in_view(browser: Any, tmp_path: Path) -> None:
    many = tmp_path / "many.yaml"
    many.write_text(
        'name: many\nstart: "2026-01-01T09:00:00Z"\norganization: org_demo\nprojects: [proj_a, proj_b]\n'
        "jobs:\n  - {generate: 600, project: proj_a}\n  - {generate: 400, project: proj_b}\n"
    )
    with serving(["--scenario", str(many), "--paused", "--quiet"]) as served:
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(f"{served.url}/_capymock/timeline")
        page.wait_for_function("() => document.getElementById('count').textContent.startsWith('1000 jobs')")
        drawn = len(page.query_selector_all(".lane"))
        assert 10 < drawn < 100
        assert all("limit=1000" not in url for url in asked if "/history" in url)
        # Scrolled to the end, the last job's lane is drawn, and still only a window of them.
        last = control(served, "history?offset=999&limit=1")["lanes"][0]["job_id"]
        page.eval_on_selector("#viewport", "v => { v.scrollTop = v.scrollHeight; }")
        page.wait_for_selector(f"[data-lane={last}]")
        assert len(page.query_selector_all(".lane")) < 100
        # Filtering by project asks the mock for that project's lanes only.
        page.eval_on_selector("#viewport", "v => { v.scrollTop = 0; }")
        page.select_option("#f-project", "proj_b")
        page.wait_for_function("() => document.getElementById('count').textContent.startsWith('400 jobs')")
        projects = page.eval_on_selector_all(".lane .label", "els => els.map(e => e.title.split(' · ')[1])")
        assert projects and set(projects) == {"proj_b"}


def offline(browser: Any, path: Path) -> tuple[Any, list[str]]:
    """A page of `path` opened with every request but the file's own refused; the list fills
    with any other request it makes, error it throws or dialog it opens."""
    page = browser.new_page(viewport={"width": 1300, "height": 700})
    trouble: list[str] = []
    page.route("**", lambda r: r.continue_() if r.request.url == path.as_uri() else r.abort())
    page.on("request", lambda r: None if r.url == path.as_uri() else trouble.append(f"a request: {r.url}"))
    page.on("pageerror", lambda exc: trouble.append(str(exc)))
    page.on("dialog", lambda dialog: trouble.append(f"a dialog: {dialog.message}"))
    page.goto(path.as_uri())
    return page, trouble


@needs_chromium
def test_show_writes_a_page_that_draws_a_bundled_scenario_offline(browser: Any, tmp_path: Path) -> None:
    target = tmp_path / "retry.html"
    scenario = ROOT / "capymock" / "scenarios" / "retry-then-succeed.yaml"
    done = show(str(scenario), "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert "http://" not in target.read_text().replace("http://www.w3.org", "")
    text = show(str(scenario), "--text").stdout.splitlines()
    page, trouble = offline(browser, target)
    page.wait_for_selector("[data-lane=job_deploy_1] .bar")
    lanes = page.eval_on_selector_all(".lane", "els => els.map(e => e.dataset.lane)")
    assert lanes == [line.split()[0] for line in text][: len(lanes)]
    assert lane_states(page, "job_deploy_1") == ["pending"]
    assert lane_states(page, "job_deploy_1", ".future") == ["claimed", "running", "failed", "pending"]
    assert lane_states(page, "job_deploy_1", ".chip") == ["claimed", "running", "succeeded"]
    assert page.inner_text("#count").startswith("41 jobs")
    page.select_option("#f-type", "deploy")
    page.wait_for_function("() => document.querySelectorAll('.lane').length < 41")
    assert set(page.eval_on_selector_all(".lane .label .type", "els => els.map(e => e.textContent)")) == {
        "deploy"
    }
    assert trouble == []


@needs_chromium
def test_show_draws_a_recording_offline(browser: Any, tmp_path: Path) -> None:
    recording = tmp_path / "recorded.yaml"
    recording.write_text(RECORDING)
    assert subprocess.run([*CAPYMOCK, "validate", str(recording)], capture_output=True).returncode == 0
    done = show(str(recording))
    assert done.returncode == 0, done.stderr
    page, trouble = offline(browser, tmp_path / "recorded.html")
    page.wait_for_selector("[data-lane=job_rec_1] .bar")
    # The states the recording saw before its start are bars; what came after is to come.
    assert lane_states(page, "job_rec_1") == ["pending", "claimed", "running"]
    assert lane_states(page, "job_rec_1", ".future") == ["failed"]
    assert page.inner_text("[data-lane=job_rec_1] .fault-mark") == "⚡503"
    # The job's fields are data, never markup: the claim shows its worker's name as written.
    page.click("[data-lane=job_rec_1] .bar[data-state=claimed]")
    page.wait_for_selector("#detail tr[data-field=claimed_by]")
    assert page.inner_text("#detail tr[data-field=claimed_by] td:last-child") == (
        "</script><img src=x onerror=alert(1)>"
    )
    assert page.inner_text("#detail tr[data-field=project_id] td:last-child") == "proj_rec"
    assert page.eval_on_selector_all("img", "els => els.length") == 0
    assert show(str(recording), "--text").stdout == (
        "job_rec_1  pending 09:59:40 → claimed +1s → running +4s → failed +22s\n"
    )
    assert trouble == []
