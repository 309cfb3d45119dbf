"""The pytest plugin, through pytester: fixtures, markers, isolation, xdist, live mode."""

from __future__ import annotations

import re
import sys

import pytest

import capymock
from conftest import ROOT

HTTP = """
import json, urllib.request, urllib.error

def get(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(http_helpers=HTTP)
    return pytester


def test_the_fixtures_serve_a_mock_with_no_set_up(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from http_helpers import get

        def test_fixtures(capy_mock, capy_url, capy_token):
            assert capy_url == capy_mock.url and capy_url.startswith("http://127.0.0.1:")
            assert capy_token == capy_mock.token
            job = capy_mock.add_job(state="running")
            status, body = get(f"{capy_url}/v1/jobs/{job.id}", capy_token)
            assert status == 200 and body["job"]["state"] == "running"
            capy_mock.assert_requested("GET", f"/v1/jobs/{job.id}", times=1)
        """
    )
    suite.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_each_test_starts_from_a_fresh_state(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from http_helpers import get

        def test_a(capy_mock):
            capy_mock.add_job(id="job_leak")
            capy_mock.advance("1h")
            get(capy_mock.url + "/v1/jobs/job_leak", capy_mock.token)

        def test_b(capy_mock):
            assert capy_mock.jobs() == []
            assert capy_mock.requests == []
            status, _ = get(capy_mock.url + "/v1/jobs/job_leak", capy_mock.token)
            assert status == 404
        """
    )
    suite.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_marker_loads_a_bundled_scenario_and_resets_it_per_test(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.capy_scenario("retry-then-succeed")
        def test_moves(capy_mock):
            assert capy_mock.scenario == "retry-then-succeed"
            capy_mock.advance("10s")
            assert capy_mock.job("job_deploy_1")["attempts"] == 1

        @pytest.mark.capy_scenario("retry-then-succeed")
        def test_starts_again(capy_mock):
            assert capy_mock.job("job_deploy_1")["state"] == "pending"
            assert str(capy_mock.clock.now()) == "2026-01-01 09:00:00+00:00"

        def test_no_marker_no_scenario(capy_mock):
            assert capy_mock.scenario is None and capy_mock.jobs() == []
        """
    )
    suite.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_the_marker_takes_paths_relative_to_the_test_file(suite: pytest.Pytester) -> None:
    sub = suite.mkpydir("sub")
    (sub / "data").mkdir()
    (sub / "data" / "mine.yaml").write_text("projects: [p]\njobs: [{id: job_mine, project: p}]\n")
    (sub / "test_relative.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.capy_scenario('data/mine.yaml')\n"
        "def test_relative(capy_mock):\n"
        "    assert [job.id for job in capy_mock.jobs()] == ['job_mine']\n"
    )
    suite.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_marker_on_a_class_and_a_module(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.capy_scenario("happy-path")

        def test_module_level(capy_mock):
            assert capy_mock.scenario == "happy-path"

        @pytest.mark.capy_scenario("cancelled")
        class TestCancelled:
            def test_class_level(self, capy_mock):
                assert capy_mock.scenario == "cancelled"

            @pytest.mark.capy_scenario("happy-path", "auth-scopes")
            def test_closest_wins(self, capy_mock):
                assert capy_mock.scenario == "happy-path + auth-scopes"
        """
    )
    suite.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_the_scenarios_dir_ini_option(suite: pytest.Pytester) -> None:
    (suite.path / "scen").mkdir()
    (suite.path / "scen" / "shared.yaml").write_text("projects: [p]\njobs: [{id: job_shared, project: p}]\n")
    suite.makeini("[pytest]\ncapy_scenarios_dir = scen\n")
    tests = suite.mkdir("deep")
    (tests / "test_ini.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.capy_scenario('shared.yaml')\n"
        "def test_ini(capy_mock):\n"
        "    assert capy_mock.job('job_shared')['state'] == 'pending'\n"
    )
    suite.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_bad_scenario_fails_the_test_with_the_loader_message(suite: pytest.Pytester) -> None:
    (suite.path / "broken.yaml").write_text(
        "projects: [p]\njobs:\n  - {id: j, project: p, steps: [{state: runing}]}\n"
    )
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.capy_scenario("broken.yaml")
        def test_broken(capy_mock):
            pass

        @pytest.mark.capy_scenario("no-such-scenario")
        def test_unknown(capy_mock):
            pass

        def test_still_fine(capy_mock):
            assert capy_mock.jobs() == []
        """
    )
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=2)
    output = result.stdout.str()
    expected = (
        f"capy_scenario: {suite.path / 'broken.yaml'}:3:41: jobs[0].steps[0].state: 'runing' is not one of"
    )
    assert expected in output or expected.replace(str(suite.path) + "/", "") in output
    assert "capy_scenario: no scenario file or bundled scenario called 'no-such-scenario'" in output
    assert "Traceback" not in output and "pytest_plugin.py" not in output


def test_assert_requested_fails_with_what_the_mock_saw(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from http_helpers import get

        def test_missing(capy_mock):
            get(capy_mock.url + "/v1/jobs/job_x", capy_mock.token)
            capy_mock.assert_requested("GET", "/v1/jobs/job_y")
        """
    )
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: expected GET /v1/jobs/job_y at least once, saw it 0 times.",
            "*The mock saw 1 request:",
            "*GET /v1/jobs/job_x -> 404",
        ]
    )


def test_a_failure_of_the_mock_errors_the_test_that_caused_it(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        def test_causes(capy_mock):
            capy_mock.record_failure("response does not match the spec: getJob 200: body: ...")

        def test_next_is_clean(capy_mock):
            pass
        """
    )
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_causes*", "*MockDefect: response does not match*"]
    )


def test_xdist_runs_one_server_per_worker(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        **{
            f"test_w{i}": f"""
                import os

                def test_record(capy_mock):
                    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
                    with open("urls.txt", "a") as out:
                        out.write(f"{{worker}} {{capy_mock.url}}\\n")
                    capy_mock.add_job(id="job_{i}")
                    assert [j.id for j in capy_mock.jobs()] == ["job_{i}"]
            """
            for i in range(8)
        }
    )
    result = suite.runpytest_subprocess("-p", "xdist", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)
    rows = [line.split() for line in (suite.path / "urls.txt").read_text().splitlines()]
    by_worker: dict[str, set[str]] = {}
    for worker, url in rows:
        by_worker.setdefault(worker, set()).add(url)
    assert set(by_worker) == {"gw0", "gw1"}
    assert all(len(urls) == 1 for urls in by_worker.values())
    assert len(set.union(*by_worker.values())) == 2


LIVE_SUITE = """
import pytest
from http_helpers import get

def test_reads_the_deployment(capy_url, capy_token):
    status, body = get(capy_url + "/v1/jobs/job_demo_build", capy_token)
    assert status == 200 and body["job"]["state"] == "failed"

def test_scripts_the_mock(capy_mock):
    pass
"""


def test_live_mode_points_the_fixtures_at_a_deployment(suite: pytest.Pytester) -> None:
    suite.makepyfile(LIVE_SUITE)
    with capymock.serve("demo") as deployment:
        result = suite.runpytest(
            "-p",
            "no:cacheprovider",
            "-rs",
            "--capy-base-url",
            str(deployment.url),
            "--capy-token",
            deployment.token,
        )
        assert [r.path for r in deployment.requests] == ["/v1/jobs/job_demo_build"]
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            f"capymock: live mode against {deployment.url} (scripting tests are skipped)",
            f"SKIPPED*needs capy_mock to script the API, but this run is against the deployment at "
            f"{deployment.url}",
        ]
    )


def test_live_mode_from_the_environment(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    suite.makepyfile(LIVE_SUITE)
    with capymock.serve("demo") as deployment:
        monkeypatch.setenv("CAPY_BASE_URL", str(deployment.url))
        monkeypatch.setenv("CAPY_TOKEN", deployment.token)
        result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)


def test_live_mode_needs_a_token(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAPY_TOKEN", raising=False)
    suite.makepyfile(LIVE_SUITE)
    result = suite.runpytest("-p", "no:cacheprovider", "--capy-base-url", "http://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--capy-base-url needs a token: pass --capy-token or set CAPY_TOKEN*"])


def test_the_marker_is_registered_with_help(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.capy_scenario(*names_or_paths): load these capymock scenarios*"]
    )


@pytest.mark.slow
def test_the_example_suite_runs_against_another_mock_in_live_mode() -> None:
    import subprocess

    with capymock.serve("demo") as deployment:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                str(ROOT / "examples"),
                "--capy-base-url",
                str(deployment.url),
                "--capy-token",
                deployment.token,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
    assert result.returncode == 0, result.stdout[-2000:]
    assert re.search(r"\b3 passed, 5 skipped\b", result.stdout), result.stdout[-500:]


def test_a_scenario_error_is_shown_once_without_a_chained_traceback(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.capy_scenario("no-such-scenario")
        def test_broken(capy_mock):
            pass
        """
    )
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    text = result.stdout.str()
    # The error report, not the one-line summary (which repeats it, cut to the terminal's width).
    report = text.split("short test summary info")[0]
    assert report.count("no scenario file or bundled scenario called 'no-such-scenario'") == 1
    assert "During handling of the above exception" not in text


def test_assertion_failures_show_the_test_not_capymocks_insides(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        def test_missing(capy_mock):
            capy_mock.assert_requested("GET", "/v1/jobs/x")
        """
    )
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert 'capy_mock.assert_requested("GET", "/v1/jobs/x")' in text
    assert "capymock/core/expectations.py" not in text and "capymock/world/fake_api.py" not in text


def test_a_misspelled_marker_is_an_error_naming_the_real_one(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.capy_scenarios("retry-then-succeed")
        def test_typo(capy_mock):
            pass
        """
    )
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown marker 'capy_scenarios': capymock's marker is 'capy_scenario'*"])


def test_a_401_in_a_test_without_a_scenario_says_why(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from http_helpers import get

        def test_unmarked(capy_mock, capy_token):
            status, body = get(f"{capy_mock.url}/v1/projects/proj_demo/jobs", capy_token)
            assert status == 404
            assert "this mock has no scenario loaded" in body["error"]
            assert "@pytest.mark.capy_scenario" in body["error"]
        """
    )
    suite.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_hypothesis_with_the_fixture_as_the_readme_shows(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from hypothesis import HealthCheck, given, settings, strategies as st
        from http_helpers import get

        @settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(count=st.integers(min_value=0, max_value=5))
        def test_lists_what_it_was_given(capy_mock, count):
            capy_mock.reset()  # one mock for the whole test: each example starts from the same state
            for _ in range(count):
                capy_mock.add_job(project_id="proj_demo")
            status, body = get(f"{capy_mock.url}/v1/projects/proj_demo/jobs", capy_mock.token)
            assert (status, len(body.get("jobs", []))) == ((200, count) if count else (404, 0))
        """
    )
    suite.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


PERSONA_SUITE = """
from datetime import timedelta

import pytest

import capymock
from http_helpers import get

WEB = "capy_live_web_0123456789abcdef"


def test_a_job_added_is_served_by_its_id(capy_mock, capy_url, capy_token):
    job = capy_mock.add_job(type="build")
    status, body = get(f"{capy_url}/v1/jobs/{job.id}", capy_token)
    assert status == 200 and body["job"]["type"] == "build"


def test_a_project_is_declared_then_listed(capy_mock, capy_url, capy_token):
    capy_mock.add_project("proj_api")
    capy_mock.add_job(id="job_api", project_id="proj_api")
    status, body = get(f"{capy_url}/v1/projects/proj_api/jobs", capy_token)
    assert status == 200 and [job["id"] for job in body["jobs"]] == ["job_api"]
    assert "proj_api" in capy_mock.projects()


def test_the_clock_moves_only_when_told(capy_mock):
    before = capy_mock.clock.now()
    capy_mock.advance("1h")
    assert capy_mock.clock.now() - before == timedelta(hours=1)


@pytest.mark.capy_scenario("retry-then-succeed")
def test_steps_fire_as_time_passes(capy_mock, capy_url):
    assert [fired.state for fired in capy_mock.advance("3s")] == ["claimed", "running"]
    status, body = get(f"{capy_url}/v1/jobs/job_deploy_1", WEB)
    assert body["job"]["state"] == "running" == capy_mock.job("job_deploy_1")["state"]


@pytest.mark.capy_scenario("retry-then-succeed")
def test_an_illegal_move_is_refused(capy_mock):
    with pytest.raises(capymock.IllegalTransition) as refused:
        capy_mock.set_state("job_deploy_1", "succeeded")
    assert refused.value.legal == ("claimed", "cancelled")


def test_an_unknown_job_is_a_key_error(capy_mock):
    with pytest.raises(KeyError):
        capy_mock.job("job_nope")
    with pytest.raises(capymock.InvalidJob):
        capy_mock.add_job(colour="red")


def test_a_fault_answers_once(capy_mock, capy_url, capy_token):
    job = capy_mock.add_job()
    capy_mock.fail("GET", "/v1/jobs/{jobID}", status=503, times=1)
    assert get(f"{capy_url}/v1/jobs/{job.id}", capy_token)[0] == 503
    assert get(f"{capy_url}/v1/jobs/{job.id}", capy_token)[0] == 200


def test_the_requests_are_recorded(capy_mock, capy_url, capy_token):
    job = capy_mock.add_job()
    get(f"{capy_url}/v1/jobs/{job.id}", capy_token)
    capy_mock.assert_requested("GET", f"/v1/jobs/{job.id}", times=1)
    assert [request.status for request in capy_mock.requests] == [200]


def test_more_tokens(capy_mock, capy_url):
    job = capy_mock.add_job()
    key = capy_mock.add_token("capy_live_more_0123456789abcdef")
    assert get(f"{capy_url}/v1/jobs/{job.id}", key)[0] == 200
    assert get(f"{capy_url}/v1/jobs/{job.id}", capy_mock.clerk_token())[0] == 200


def test_the_handle_is_a_capymock_handle(capy_mock):
    assert isinstance(capy_mock, capymock.Handle)
    assert capy_mock.scenario is None and capy_mock.jobs() == []
"""


def test_a_suite_written_in_process_passes_unchanged_in_every_mode(suite: pytest.Pytester) -> None:
    from cli_helpers import serving

    suite.makepyfile(test_persona=PERSONA_SUITE)
    in_process = suite.runpytest_subprocess("-p", "no:cacheprovider")
    in_process.assert_outcomes(passed=10)
    in_workers = suite.runpytest_subprocess("-p", "no:cacheprovider", "-p", "xdist", "-n", "2")
    in_workers.assert_outcomes(passed=10)
    with serving(["--quiet"]) as served:
        remote = suite.runpytest_subprocess("-p", "no:cacheprovider", "--capy-server", served.url)
        remote.assert_outcomes(passed=10)
        assert http_get(f"{served.url}/_capymock/sessions")["sessions"] == []  # each ended with its test


def http_get(url: str) -> dict[str, object]:
    import json
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        body: dict[str, object] = json.load(response)
    return body


def test_an_unreachable_capy_server_stops_the_run_with_one_line(suite: pytest.Pytester) -> None:
    import socket

    suite.makepyfile(test_three="\n".join(f"def test_{i}(capy_mock):\n    pass\n" for i in range(3)))
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        result = suite.runpytest_subprocess("-p", "no:cacheprovider", "--capy-server", url)
        in_workers = suite.runpytest_subprocess(
            "-p", "no:cacheprovider", "-p", "xdist", "-n", "2", "--capy-server", url
        )
    for run in (result, in_workers):
        assert run.ret == pytest.ExitCode.USAGE_ERROR
        output = "\n".join(run.outlines + run.errlines)
        assert output.count(f"--capy-server {url} is not a capymock server this run can reach") == 1, output
        assert "passed" not in output and "failed" not in output
