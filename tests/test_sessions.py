"""Isolated sessions on one `capymock serve`: each a whole mock of its own under `/s/{id}`, started
and ended over HTTP, bounded in number and idle time, and never seeing another's state."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.test import Client

import capymock
from cli_helpers import Served, serving
from conftest import http, wait_for

pytestmark = pytest.mark.slow

BUNDLED = sorted(capymock.bundled_scenarios())


def start(served: Served, body: object = None) -> tuple[int, dict]:
    reply = http(f"{served.url}/_capymock/sessions", "POST", None, body if body is not None else {})
    return reply.status, reply.body


def snapshot(url: str, token: str, mock: capymock.Mock | None = None) -> dict[str, object]:
    """What a client sees of every job of a mock: by id, its whole body (through the API)."""
    jobs = http(f"{url}/_capymock/jobs").body["jobs"]
    seen = {}
    for job in jobs:
        reply = http(f"{url}/v1/jobs/{job['id']}", headers={"Authorization": f"Bearer {token}"})
        seen[job["id"]] = reply.body.get("job", reply.status)
    return seen


def test_sixteen_sessions_at_their_own_pace_see_only_their_own_scenario() -> None:
    with serving(["--scenario", "demo", "--quiet", "--threads", "8"]) as served:
        default_before = http(f"{served.url}/_capymock/state").body
        problems: list[str] = []

        def one_session(index: int) -> None:
            name = BUNDLED[index % len(BUNDLED)]
            status, session = start(served, {"scenario": name})
            if status != 201:
                problems.append(f"{name}: {status} {session}")
                return
            # The same scenario, alone, in-process, from the same real time (a scenario without a
            # `start` starts where the clock stands: the second the session was made).
            began = datetime.fromisoformat(
                http(f"{session['control_url']}/clock").body["now"].replace("Z", "+00:00")
            )
            oracle = capymock.Mock(scenario=name, wall=lambda: began)
            pace = random.Random(index).choice(["1s", "7s", "30s", "2m"])
            for _ in range(6):
                http(f"{session['control_url']}/advance", "POST", None, {"duration": pace})
                oracle.advance(pace)
                got = http(f"{session['control_url']}/state").body
                want = oracle.state()
                if (got["now"], got["jobs"], got["pending_steps"]) != (
                    want["now"],
                    want["jobs"],
                    want["pending_steps"],
                ):
                    problems.append(f"session {index} ({name}) at +{pace}: differs from the scenario alone")
                ids = {job["id"] for job in got["jobs"]}
                if ids != {job.id for job in oracle.jobs()}:
                    problems.append(f"session {index} ({name}) sees jobs of another scenario")
                # Read through the session's API as an app would, and the oracle's the same way.
                if want["jobs"]:
                    path = f"/v1/jobs/{want['jobs'][0]['id']}"
                    auth = {"Authorization": f"Bearer {session['token']}"}
                    reply = http(f"{session['base_url']}{path}", headers=auth)
                    alone = Client(oracle.wsgi_app).get(path, headers=auth)
                    if (reply.status, reply.body) != (alone.status_code, alone.json):
                        problems.append(f"session {index} ({name}): a read differs from the scenario alone")

        workers = [threading.Thread(target=one_session, args=(i,)) for i in range(16)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert problems == []
        default_after = http(f"{served.url}/_capymock/state").body
        assert (default_after["scenario"], default_after["jobs"]) == ("demo", default_before["jobs"])
        assert len(http(f"{served.url}/_capymock/sessions").body["sessions"]) == 16


def test_a_session_answers_like_a_mock_and_ends_on_delete() -> None:
    with serving(["--quiet"]) as served:
        status, session = start(served, {"scenario": "retry-then-succeed"})
        assert status == 201 and set(session) >= {"id", "base_url", "token", "control_url", "expires_at"}
        assert session["base_url"] == f"{served.url}/s/{session['id']}"
        web = {"Authorization": "Bearer capy_live_web_0123456789abcdef"}
        assert (
            http(f"{session['base_url']}/v1/jobs/job_deploy_1", headers=web).body["job"]["state"] == "pending"
        )
        assert http(f"{served.url}/v1/jobs/job_deploy_1", headers=web).status == 401  # not the default's
        assert http(f"{session['control_url']}/advance", "POST", None, {"to": "next_step"}).status == 200
        assert (
            http(f"{session['base_url']}/v1/jobs/job_deploy_1", headers=web).body["job"]["state"] == "claimed"
        )
        assert (
            http(f"{session['control_url']}/requests").body["requests"][0]["path"] == "/v1/jobs/job_deploy_1"
        )
        assert http(f"{served.url}/_capymock/sessions/{session['id']}", "DELETE").status == 204
        gone = http(f"{session['base_url']}/v1/jobs/job_deploy_1", headers=web)
        assert gone.status == 404 and session["id"] in gone.body["error"]


def test_sessions_from_a_document_an_object_a_served_file_or_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "mine.yaml").write_text("name: mine\nprojects: [p]\njobs: [{id: j, project: p}]\n")
    with serving(["--scenario", str(folder / "mine.yaml"), "--quiet"]) as served:
        assert start(served, {"scenario": "mine.yaml"})[1]["scenario"] == "mine"
        assert start(served, {"scenario": "name: doc\nprojects: [p]\n"})[1]["scenario"] == "doc"
        assert start(served, {"scenario": {"name": "object", "projects": ["p"]}})[1]["scenario"] == "object"
        assert start(served, {})[1]["scenario"] is None
        assert start(served, {"scenario": "/etc/passwd"})[0] == 403
        bad = start(served, {"scenario": "projects: [p]\njobs: [{id: j, project: q}]\n"})
        assert bad[0] == 422 and "'q' is not a declared project" in bad[1]["error"]
        assert start(served, {"scenario": "no-such"})[0] == 422
        assert len(http(f"{served.url}/_capymock/sessions").body["sessions"]) == 4  # no failed one left


def test_a_session_clock_is_virtual_unless_given_a_speed() -> None:
    with serving(["--quiet"]) as served:
        virtual = start(served, {"scenario": "retry-then-succeed"})[1]
        running = start(served, {"scenario": "retry-then-succeed", "speed": 100})[1]
        wait_for(
            lambda: http(f"{running['control_url']}/clock").body["now"] > "2026-01-01T09:00:10Z",
            "the session at speed 100 to pass 10 s",
        )
        assert http(f"{virtual['control_url']}/clock").body["now"] == "2026-01-01T09:00:00Z"


def test_sessions_are_bounded_in_number_and_idle_time() -> None:
    """Idle time read from a clock the test moves: a used session lives on, an idle one ends."""
    with capymock.serve() as mock:
        now = [1000.0]
        mock.sessions.timer, mock.sessions.ttl, mock.sessions.limit = (
            (lambda: now[0]),
            timedelta(seconds=1),
            2,
        )
        url = f"{mock.url}/_capymock/sessions"
        first, second = (http(url, "POST", None, {}).body for _ in range(2))
        refused = http(url, "POST", None, {})
        assert (
            refused.status == 429
            and "2 sessions are live, the most this server holds" in refused.body["error"]
        )
        now[0] += 0.6
        assert http(f"{first['control_url']}/state").status == 200  # used: its idle time starts again
        now[0] += 0.6
        assert http(f"{first['control_url']}/state").status == 200
        gone = http(f"{second['control_url']}/state")  # idle for 1.2 s: expired
        assert gone.status == 404 and second["id"] in gone.body["error"] and "expired" in gone.body["error"]
        assert http(url, "POST", None, {}).status == 201
        now[0] += 1.0  # idle for exactly the ttl: still live
        assert http(f"{first['control_url']}/state").status == 200


def test_serve_bounds_sessions_by_its_flags_and_ends_an_idle_one() -> None:
    with serving(["--quiet", "--max-sessions", "2", "--session-ttl", "1s"]) as served:
        first, second = start(served)[1], start(served)[1]
        refused = start(served)
        assert refused[0] == 429 and "2 sessions are live, the most this server holds" in refused[1]["error"]
        assert "(0.0166667 min without a request)" in refused[1]["error"]  # --session-ttl 1s

        def live() -> set[str]:  # the list does not count as using a session
            return {session["id"] for session in http(f"{served.url}/_capymock/sessions").body["sessions"]}

        assert live() == {first["id"], second["id"]}
        wait_for(lambda: not live(), "both sessions to expire, idle for 1 s", timeout=60)
        gone = http(f"{first['control_url']}/state")
        assert gone.status == 404 and "expired" in gone.body["error"]
        assert start(served)[0] == 201


def test_an_unknown_session_is_a_404_naming_it() -> None:
    with serving(["--quiet"]) as served:
        reply = http(f"{served.url}/s/s_nope/v1/jobs/x", headers={"Authorization": "Bearer capy_live_x"})
        assert reply.status == 404 and "no session 's_nope'" in reply.body["error"]
        assert http(f"{served.url}/_capymock/sessions/s_nope", "DELETE").status == 404


def test_sessions_obey_the_servers_origin_and_host_rules() -> None:
    with serving(["--quiet"]) as served:
        evil = http(f"{served.url}/_capymock/sessions", "POST", {"Origin": "https://evil.example"}, {})
        assert evil.status == 403
        session = start(served)[1]
        port = served.url.rsplit(":", 1)[1]
        assert http(f"{session['control_url']}/state", headers={"Host": f"evil.example:{port}"}).status == 421
        assert (
            http(f"{session['control_url']}/reset", "POST", {"Origin": "https://evil.example"}, {}).status
            == 403
        )


def test_mock_session_in_process() -> None:
    with capymock.serve("demo") as mock:
        session = mock.session("retry-then-succeed")
        assert session.url == f"{mock.url}/s/{session.session_id}"
        session.advance("3s")
        reply = http(
            f"{session.url}/v1/jobs/job_deploy_1",
            headers={"Authorization": "Bearer capy_live_web_0123456789abcdef"},
        )
        assert reply.body["job"]["state"] == "running"
        assert mock.scenario == "demo" and mock.clock.now() != session.clock.now()
        mock.end_session(session)
        assert http(f"{session.url}/_capymock/state").status == 404


def test_the_plugin_gives_each_test_a_session_on_a_shared_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json, urllib.request
        import pytest

        def get(url, token):
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request) as response:
                return json.load(response)

        @pytest.mark.capy_scenario("retry-then-succeed")
        def test_one(capy_mock, capy_url):
            assert "/s/" in capy_url
            capy_mock.advance("3s")
            job = get(capy_url + "/v1/jobs/job_deploy_1", "capy_live_web_0123456789abcdef")["job"]
            assert job["state"] == "running"
            capy_mock.assert_requested("GET", "/v1/jobs/job_deploy_1", times=1)

        @pytest.mark.capy_scenario("retry-then-succeed")
        def test_two_starts_fresh(capy_mock, capy_url):
            assert capy_mock.job("job_deploy_1")["state"] == "pending"
            capy_mock.set_state("job_deploy_1", "cancelled")
            with pytest.raises(Exception, match="cannot go from 'cancelled' to 'running'"):
                capy_mock.set_state("job_deploy_1", "running")
        """
    )
    with serving(["--quiet"]) as served:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--capy-server", served.url)
        result.assert_outcomes(passed=2)
        assert http(f"{served.url}/_capymock/sessions").body["sessions"] == []  # each ended with its test
        assert http(f"{served.url}/_capymock/state").body["scenario"] == "demo"  # the default: untouched


def test_a_session_starts_from_a_served_scenario_named_by_its_name(tmp_path: Path) -> None:
    path = tmp_path / "flow-v2.yaml"
    path.write_text(
        "name: checkout-flow\nprojects: [proj_shop]\njobs:\n  - {id: job_cart, project: proj_shop}\n"
    )
    with serving(["--scenario", str(path), "--quiet"]) as served:
        by_name = start(served, {"scenario": "checkout-flow"})
        by_file = start(served, {"scenario": "flow-v2.yaml"})
        typo = start(served, {"scenario": "checkout-flwo"})
    assert by_name[0] == by_file[0] == 201, (by_name, by_file)
    assert by_name[1]["scenario"] == by_file[1]["scenario"] == "checkout-flow"
    assert typo[0] == 422 and "(did you mean 'checkout-flow'?)" in typo[1]["error"]
    assert "served: checkout-flow" in typo[1]["error"]


def test_sessions_share_the_servers_journal_budget_and_give_it_back_when_they_end() -> None:
    with capymock.serve("demo", journal_bytes=2_000_000) as mock:
        now = [1000.0]
        mock.sessions.timer, mock.sessions.ttl = (lambda: now[0]), timedelta(seconds=10)
        ended, expiring = mock.session("demo"), mock.session("demo")
        padding = {f"X-Pad-{i}": "p" * 200 for i in range(10)}
        for session in (ended, expiring, ended, mock):
            http(f"{session.url}/v1/jobs/nope", headers=padding)
        budget = mock.journal_budget
        assert ended.journal_budget is budget is expiring.journal_budget
        assert len(ended.requests) == 2 and len(expiring.requests) == 1 and len(mock.requests) == 1
        one = budget.used // 4
        mock.end_session(ended)
        assert budget.used == 2 * one
        now[0] += 11  # idle past its time: it expires when the sessions are next looked at
        assert mock.sessions.live() == []
        assert budget.used == one  # the server's own entry only
        mock.reset()
        assert budget.used == 0 and mock.requests == []
