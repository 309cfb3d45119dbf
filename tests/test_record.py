"""`capymock record`, driven as a user would: the CLI as a subprocess against a served mock (the
"real" deployment) or a small scripted deployment, and the written file served again."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli_helpers import CAPYMOCK, Served, _pump, proxying, serving
from conftest import http, wait_for

RETRY_TOKEN = "capy_live_web_0123456789abcdef"  # retry-then-succeed's own key
INTERVAL = 0.01  # real seconds between two polls
STEPS = ["pending", "claimed", "running", "failed", "pending", "claimed", "running", "succeeded"]
ATTEMPTS = [0, 1, 1, 1, 1, 2, 2, 2]
PROGRESS = re.compile(r"^\s+\+\s*[\d.]+s\s+(\S+): (\S+) \(attempts (\d+)\)$")


def record(*args: str, token: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAPY_TOKEN": token} if token else dict(os.environ)
    return subprocess.run(
        [*CAPYMOCK, "record", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def progress(stderr: str) -> list[tuple[str, str, int]]:
    """(job, state, attempts) of each change `record` printed."""
    found = (PROGRESS.match(line) for line in stderr.splitlines())
    return [(m.group(1), m.group(2), int(m.group(3))) for m in found if m]


def steps_of(path: Path, job: str) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return next(entry["steps"] for entry in document["jobs"] if entry["id"] == job)


def seconds(value: str | None) -> float:
    if value is None:
        return 0.0
    number = float(re.sub(r"[a-z]+$", "", value))
    return number / 1000 if value.endswith("ms") else number * {"s": 1, "m": 60, "h": 3600}[value[-1]]


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CAPYMOCK, "validate", str(path)], capture_output=True, text=True, timeout=60)


def recorded_token(path: Path) -> str:
    found = re.search(r"capy_live_recorded_\w+", path.read_text(encoding="utf-8"))
    assert found, path.read_text(encoding="utf-8")
    return found.group(0)


def poll_args(url: str, output: Path, *more: str) -> list[str]:
    return ["--base-url", url, "--project-id", "proj_web", "--interval", f"{INTERVAL}s", "--rate-limit", "0",
            "-o", str(output), *more]  # fmt: skip


# -- poll mode: record the bundled retry, replay it ---------------------------------------------

Seen = tuple[str, int]
"""(state, attempts) of the watched job."""


def _recording(args: list[str], token: str) -> tuple[subprocess.Popen[str], list[str], threading.Thread]:
    """`capymock record ARGS` started with `token`, its stderr lines gathered as they come."""
    process = subprocess.Popen(
        [*CAPYMOCK, "record", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CAPY_TOKEN": token, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    reader = threading.Thread(target=_pump, args=(process.stderr, lines), daemon=True)
    reader.start()
    return process, lines, reader


def record_stepped(
    deployment: Served, output: Path, token: str, advance: Callable[[Seen], dict[str, Any]]
) -> tuple[int, str]:
    """`record` job_deploy_1 of a paused deployment, moving its clock (`advance(seen)` is the
    body of `POST /_capymock/advance`) each time the recorder has shown the state the job is
    in, so it sees every state whatever the machine's speed: (exit status, stderr)."""
    process, lines, reader = _recording(poll_args(deployment.url, output, "--job-id", "job_deploy_1"), token)

    def finished() -> bool:
        if process.poll() is not None:  # the recorder saw the job finish, and wrote the file
            return True
        shown = progress("".join(lines))
        job = http(f"{deployment.url}/_capymock/jobs/job_deploy_1").body["job"]
        if shown and shown[-1][1:] == (job["state"], job["attempts"]):
            stepped = http(f"{deployment.url}/_capymock/advance", "POST", None, advance(shown[-1][1:]))
            assert stepped.status in (200, 409), stepped.body  # 409: the next step waits for reads
        return False

    try:
        wait_for(finished, "the recorder to see job_deploy_1 finish", timeout=120)
        assert process.stdout is not None
        process.stdout.read()
        reader.join(30)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
    return process.returncode, "".join(lines)


def test_a_recorded_retry_replays_the_same_states_attempts_and_timing(tmp_path: Path) -> None:
    original = tmp_path / "recorded.yaml"

    def step_past_the_retry(seen: Seen) -> dict[str, Any]:
        # The retry's claim waits for two reads, which come at once: the clock is moved 2 s past
        # the retry (due 1 s after the failure), so the claim the reads fire shows a gap of its own.
        return {"seconds": 3} if seen == ("failed", 1) else {"to": "next_step"}

    with serving(["--scenario", "retry-then-succeed", "--paused", "--quiet"]) as real:
        status, first = record_stepped(real, original, RETRY_TOKEN, step_past_the_retry)
    assert status == 0, first
    seen = progress(first)
    assert [state for _, state, _ in seen] == STEPS, first
    assert [attempts for _, _, attempts in seen] == ATTEMPTS
    assert validate(original).returncode == 0, validate(original).stdout

    replayed = tmp_path / "replayed.yaml"
    with serving(["--scenario", str(original), "--paused", "--quiet"]) as replay:
        status, second = record_stepped(
            replay, replayed, recorded_token(original), lambda seen: {"to": "next_step"}
        )
    assert status == 0, second
    assert progress(second) == seen  # the same states, with the same attempts
    # The timing: retry-then-succeed's `after`s, read from the deployment's own stamps, and the
    # replay's the same (the claim after the retry: the 2 s the clock was moved).
    before, after = steps_of(original, "job_deploy_1"), steps_of(replayed, "job_deploy_1")
    assert [s["state"] for s in before] == [s["state"] for s in after] == STEPS
    assert [seconds(s.get("after")) for s in before] == [0, 2, 1, 5, 1, 2, 1, 3], before
    assert after == before
    for text in (first, second, original.read_text()):
        assert RETRY_TOKEN not in text
    assert recorded_token(original) not in second + replayed.read_text()


def test_the_file_says_where_and_how_it_was_recorded(tmp_path: Path) -> None:
    output = tmp_path / "sub" / "recorded.yaml"
    output.parent.mkdir()
    with serving(["--scenario", "happy-path", "--quiet"]) as real:
        done = record(*poll_args(real.url, output, "--duration", "300ms"), token=real.token)
    assert done.returncode == 0, done.stderr
    text = output.read_text(encoding="utf-8")
    first_line = text.splitlines()[0]
    assert first_line.startswith("# yaml-language-server: $schema=")
    schema = (output.parent / first_line.split("=", 1)[1]).resolve()
    assert json.loads(schema.read_text())["title"]  # the line points at the installed schema
    assert f"# Recorded by capymock record from {real.url}" in text
    assert "polled every 10ms" in text
    assert "wrote" in done.stderr and str(output) in done.stderr
    assert real.token not in text + done.stdout + done.stderr


# -- a scripted deployment: what a real one may do ----------------------------------------------


FINISHED = ("succeeded", "failed")


def job(job_id: str, state: str, attempts: int, **fields: Any) -> dict[str, Any]:
    """A body of the Job schema, at a time `fields` may move."""
    created = "2026-03-01T10:00:00Z"
    at = fields.pop("at", created)
    body = {
        "id": job_id,
        "project_id": "proj_real",
        "organization_id": "org_real",
        "type": "deploy",
        "state": state,
        "attempts": attempts,
        "max_attempts": 3,
        "created_at": "2026-03-01T10:00:00Z",
        "updated_at": at,
        # A finished job keeps its claim and start, as the lifecycle leaves them (made at creation).
        "claimed_by": "worker-7" if state in ("claimed", "running", "succeeded", "failed") else None,
        "claimed_at": at if state in ("claimed", "running") else created if state in FINISHED else None,
        "started_at": at if state == "running" else created if state in FINISHED else None,
        "completed_at": at if state in ("succeeded", "failed", "cancelled") else None,
    }
    body.update(fields)
    return body


class Scripted:
    """Each read of a job shows its next frame (the last one stays); `failures[path]` answers
    those statuses first (0: no answer at all, until the client gives up)."""

    def __init__(self, frames: Mapping[str, list[dict[str, Any]]], failures: Mapping[str, list[int]]) -> None:
        self.frames = {k: list(v) for k, v in frames.items()}
        self.failures = {k: list(v) for k, v in failures.items()}
        self.lock = threading.Lock()
        self.authorizations: list[str | None] = []

    def answer(self, path: str, authorization: str | None) -> tuple[int, Any]:
        with self.lock:
            self.authorizations.append(authorization)
            if self.failures.get(path):
                return self.failures[path].pop(0), {"error": f"upstream trouble at {path}"}
            if path == "/v1/projects/proj_real/jobs":
                return 200, {"jobs": [frames[0] for frames in self.frames.values()]}
            job_id = path.rsplit("/", 1)[-1]
            if job_id not in self.frames:
                return 404, {"error": "not found"}
            frames = self.frames[job_id]
            return 200, {"job": frames.pop(0) if len(frames) > 1 else frames[0]}


@contextmanager
def scripted(
    frames: Mapping[str, list[dict[str, Any]]], failures: Mapping[str, list[int]] | None = None
) -> Iterator[tuple[str, Scripted]]:
    script = Scripted(frames, failures or {})
    ended = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = script.answer(self.path.split("?")[0], self.headers.get("Authorization"))
            if status == 0:
                ended.wait(60)  # no answer until the test is over: the client gives up first
                status = 504
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        ended.set()
        server.shutdown()
        server.server_close()


SECRET = "capy_live_secret_5f1e0c2b9a7d4e36"


TIMEOUT = "2s"
"""How long the recorder waits for an answer: long enough for any answer on a busy machine, so
only the deployment's deliberate silence (status 0) is a timeout."""


def scripted_args(url: str, output: Path, *more: str) -> list[str]:
    return ["--base-url", url, "--project-id", "proj_real", "--interval", "10ms", "--rate-limit", "0",
            "--timeout", TIMEOUT, "-o", str(output), *more]  # fmt: skip


def record_scripted(url: str, output: Path, *more: str) -> subprocess.CompletedProcess[str]:
    """`record` until every watched job is finished."""
    return record(*scripted_args(url, output, *more), token=SECRET)


def record_until_shown(args: list[str], shown: str) -> subprocess.CompletedProcess[str]:
    """`record ARGS`, stopped with Ctrl-C once its progress shows `shown` (for a job that never
    finishes, or one seen to finish before a later change)."""
    process, lines, reader = _recording(args, SECRET)
    try:
        wait_for(
            lambda: shown in "".join(lines) or process.poll() is not None, f"the recorder to show {shown!r}"
        )
        assert shown in "".join(lines), "".join(lines)
        process.send_signal(signal.SIGINT)
        assert process.stdout is not None
        stdout = process.stdout.read()
        process.wait(30)
        reader.join(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    return subprocess.CompletedProcess(args, process.returncode, stdout, "".join(lines))


def test_states_the_polls_missed_are_filled_by_the_lifecycle_and_commented(tmp_path: Path) -> None:
    frames = {
        # pending, then running: `claimed` was missed.
        "job_gap": [
            job("job_gap", "pending", 0),
            job("job_gap", "running", 1, at="2026-03-01T10:00:04Z", claimed_at="2026-03-01T10:00:01Z"),
            job("job_gap", "succeeded", 1, at="2026-03-01T10:00:10Z", last_exit_code=0),
        ],
        # running, then running again one attempt later: a whole retry was missed.
        "job_lap": [
            job("job_lap", "running", 1),
            job("job_lap", "running", 2, at="2026-03-01T10:00:08Z", claimed_by="worker-9"),
            job("job_lap", "succeeded", 2, at="2026-03-01T10:00:09Z", last_exit_code=0),
        ],
    }
    output = tmp_path / "gaps.yaml"
    with scripted(frames) as (url, _):
        done = record_scripted(url, output)
    assert done.returncode == 0, done.stderr
    assert validate(output).returncode == 0, validate(output).stdout
    text = output.read_text(encoding="utf-8")
    assert "# filled: claimed not seen between two reads" in text
    assert "# filled: pending, claimed not seen between two reads" in text
    gap = steps_of(output, "job_gap")
    assert [s["state"] for s in gap] == ["pending", "claimed", "running", "succeeded"]
    assert [seconds(s.get("after")) for s in gap] == [0, 1, 3, 6]  # claimed when `claimed_at` says
    lap = steps_of(output, "job_lap")
    # First seen running: created pending, its claim and start taken before the first read (at
    # the times its stamps show), then the retry the polls missed.
    assert [s["state"] for s in lap] == [
        "pending",
        "claimed",
        "running",
        "pending",
        "claimed",
        "running",
        "succeeded",
    ]
    assert "# before the first read, which saw it running" in text
    assert [s.get("age") for s in lap[1:3]] == ["0s", "0s"]
    assert [seconds(s.get("after")) for s in lap[3:]] == [4, 4, 0, 1]  # `pending` has no stamp: halfway
    assert (lap[1]["claimed_by"], lap[4]["claimed_by"]) == ("worker-7", "worker-9")  # on each claim

    with serving(["--scenario", str(output), "--quiet", "--speed", "1000"]) as replay:

        def lap_done() -> dict[str, Any] | None:
            shown: dict[str, Any] = get(f"{replay.url}/v1/jobs/job_lap", recorded_token(output))["job"]
            return shown if shown["state"] == "succeeded" else None

        shown = wait_for(lap_done, "job_lap to succeed in the replay")
    assert shown["attempts"] == 2  # the retry the polls missed is in the replay


def test_a_move_no_legal_walk_explains_is_a_comment_not_a_step(tmp_path: Path) -> None:
    frames = {
        "job_back": [
            job("job_back", "succeeded", 1, last_exit_code=0),
            job("job_back", "running", 1, at="2026-03-01T10:00:05Z"),
        ]
    }
    output = tmp_path / "odd.yaml"
    with scripted(frames) as (url, _):
        # `--duration`: past the first read, which shows the job finished (the recorder would stop)
        done = record_until_shown(scripted_args(url, output, "--duration", "1h"), "job_back: running")
    assert done.returncode == 0, done.stderr
    assert validate(output).returncode == 0, validate(output).stdout
    assert [s["state"] for s in steps_of(output, "job_back")] == [
        "pending",
        "claimed",
        "running",
        "succeeded",
    ]
    assert "# then 'succeeded' → 'running' (+5s), which no legal path explains: not replayed" in (
        output.read_text(encoding="utf-8")
    )


def test_5xx_answers_and_timeouts_while_polling_become_faults(tmp_path: Path) -> None:
    frames = {
        "job_one": [job("job_one", "pending", 0), job("job_one", "cancelled", 0, at="2026-03-01T10:00:02Z")]
    }
    failures = {"/v1/jobs/job_one": [502, 0, 502]}
    output = tmp_path / "faults.yaml"
    with scripted(frames, failures) as (url, _):
        done = record_scripted(url, output)
    assert done.returncode == 0, done.stderr
    assert validate(output).returncode == 0, validate(output).stdout
    faults = yaml.safe_load(output.read_text(encoding="utf-8"))["faults"]
    assert {"match": {"method": "GET", "path": "/v1/jobs/job_one"}, "status": 502, "times": 2,
            "body": {"error": "upstream trouble at /v1/jobs/job_one"}} in faults  # fmt: skip
    assert {"match": {"method": "GET", "path": "/v1/jobs/job_one"}, "status": 504, "delay": TIMEOUT,
            "times": 1} in faults  # fmt: skip


def test_redact_and_rename_keep_private_values_out_of_the_file(tmp_path: Path) -> None:
    frames = {
        "job_private_1": [
            job("job_private_1", "running", 1),
            job("job_private_1", "failed", 1, at="2026-03-01T10:00:03Z", error="db password hunter2",
                last_stderr="trace: hunter2", last_stdout="deploying job_private_1 of proj_real",
                last_exit_code=1),
        ]
    }  # fmt: skip
    output = tmp_path / "private.yaml"
    with scripted(frames, {"/v1/jobs/job_private_1": [503]}) as (url, script):
        args = scripted_args(url, output, "--redact", "error, last_stderr", "--rename")
        done = record_until_shown(args, "job_private_1: failed")
    assert done.returncode == 0, done.stderr
    assert validate(output).returncode == 0, validate(output).stdout
    text = output.read_text(encoding="utf-8")
    for private in ("hunter2", "job_private_1", "proj_real", "org_real", SECRET):
        assert private not in text
    assert text.count('"[redacted]"') == 2
    assert '"deploying job_1 of proj_1"' in text  # ids inside values are renamed too
    assert 'organization: "org_recorded"' in text
    assert 'path: "/v1/jobs/job_1"' in text  # and in the faults' paths
    assert set(script.authorizations) == {f"Bearer {SECRET}"}  # the real token went to the deployment
    assert SECRET not in done.stdout + done.stderr


def test_ctrl_c_ends_the_recording_and_writes_what_was_seen(tmp_path: Path) -> None:
    frames = {"job_long": [job("job_long", "running", 1)]}
    output = tmp_path / "partial.yaml"
    with scripted(frames) as (url, _):
        args = ["--base-url", url, "--project-id", "proj_real", "--interval", "50ms", "-o", str(output)]
        done = record_until_shown(args, "job_long: running")
    assert done.returncode == 0, done.stderr
    assert [s["state"] for s in steps_of(output, "job_long")] == ["pending", "claimed", "running"]
    assert "Traceback" not in done.stderr


def test_a_job_first_seen_running_is_replayed_with_the_past_its_stamps_show(tmp_path: Path) -> None:
    # Created at 10:00, claimed twice (the last claim at 10:03 by worker-3), started at 10:04:
    # the first read, at 10:05, sees it running on its second attempt.
    stamps = {
        "claimed_at": "2026-03-01T10:03:00Z",
        "started_at": "2026-03-01T10:04:00Z",
        "claimed_by": "worker-3",
    }
    frames = {
        "job_old": [
            job("job_old", "running", 2, at="2026-03-01T10:05:00Z", **stamps),
            job("job_old", "succeeded", 2, at="2026-03-01T10:05:30Z", **stamps, last_exit_code=0),
        ]
    }
    output = tmp_path / "past.yaml"
    with scripted(frames) as (url, _):
        done = record_scripted(url, output)
    assert done.returncode == 0, done.stderr
    assert validate(output).returncode == 0, validate(output).stdout
    steps = steps_of(output, "job_old")
    # The lifecycle's shortest walk to running with attempts 2 (a claim that lapsed back to
    # pending), each step with its age: the claim and start at their stamps, the first claim and
    # the return to pending spread evenly before them.
    assert [s["state"] for s in steps] == ["pending", "claimed", "pending", "claimed", "running", "succeeded"]
    assert [s.get("age") for s in steps[1:5]] == ["4m", "3m", "2m", "1m"]
    assert seconds(steps[5].get("after")) == 30  # after the start, as the first read saw it
    assert steps[3]["claimed_by"] == "worker-3"

    with serving(["--scenario", str(output), "--quiet", "--paused"]) as replay:
        shown = get(f"{replay.url}/v1/jobs/job_old", recorded_token(output))["job"]
    original = frames["job_old"][0]
    for name in ("state", "attempts", "created_at", "claimed_at", "started_at", "claimed_by"):
        assert shown[name] == original[name], name


POLL = ["--base-url", "http://127.0.0.1:1", "--project-id", "p", "-o", "x.yaml"]


@pytest.mark.parametrize(
    ("args", "token", "message"),
    [
        (POLL[2:], SECRET, "poll mode needs --base-url and --project-id"),
        (POLL, None, "no token"),
        (POLL, SECRET, "cannot reach"),
        (["--base-url", "nowhere", *POLL[2:]], SECRET, "expected a URL"),
        ([*POLL, "--redact", "secrets"], SECRET, "not a job field"),
        ([*POLL, "--interval", "soon"], SECRET, "--interval"),
        ([*POLL, "--rate-limit", "fast"], SECRET, "--rate-limit"),
        ([*POLL, "--max-answer", "lots"], SECRET, "Invalid value for --max-answer: 'lots' is not a size"),
        (["--proxy", "-o", "x.yaml"], None, "--proxy needs --target"),
        ([*POLL[:-1], "missing/x.yaml"], SECRET, "is not a folder this user can write in"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    args: list[str], token: str | None, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAPY_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    done = record(*args, token=token)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert SECRET not in done.stderr + done.stdout
    assert not (tmp_path / "x.yaml").exists()


def test_a_rejected_token_stops_before_recording(tmp_path: Path) -> None:
    with serving(["--scenario", "happy-path", "--quiet"]) as real:
        done = record(*poll_args(real.url, tmp_path / "x.yaml"), token=SECRET)
    assert done.returncode == 2
    assert "rejected the token (401)" in done.stderr and SECRET not in done.stderr
    assert not (tmp_path / "x.yaml").exists()


# -- proxy mode ---------------------------------------------------------------------------------


def get(url: str, token: str, host: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}", **({"Host": host} if host else {})}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as answer:
        return json.loads(answer.read())


def status_of(url: str, token: str, host: str | None = None) -> int:
    try:
        get(url, token, host)
    except urllib.error.HTTPError as failure:
        failure.close()
        return failure.code
    return 200


def test_the_proxy_records_an_injected_502_as_a_fault_and_the_jobs_states(tmp_path: Path) -> None:
    output = tmp_path / "proxied.yaml"
    with serving(["--scenario", "retry-then-succeed", "--paused", "--quiet"]) as real:
        fault = {"match": {"method": "GET", "path": "/v1/jobs/job_deploy_1"}, "status": 502, "times": 2}
        request = urllib.request.Request(
            f"{real.url}/_capymock/faults", json.dumps(fault).encode(), {"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=10).close()
        with proxying(real.url, output) as (url, process, lines):
            statuses, states = [], []

            def succeeded() -> bool:
                """One poll through the proxy; the deployment's clock is stepped once the poll
                has shown the state the job is in, so every state passes through the proxy."""
                statuses.append(status_of(f"{url}/v1/jobs/job_deploy_1", RETRY_TOKEN))
                if statuses[-1] != 200:
                    return False
                shown = get(f"{url}/v1/jobs/job_deploy_1", RETRY_TOKEN)["job"]
                states.append(shown["state"])
                if shown["state"] == "succeeded":
                    return True
                if http(f"{real.url}/_capymock/jobs/job_deploy_1").body["job"] == shown:
                    stepped = http(f"{real.url}/_capymock/advance", "POST", None, {"to": "next_step"})
                    assert stepped.status in (200, 409), stepped.body  # 409: the next step waits for reads
                return False

            wait_for(succeeded, "job_deploy_1 to succeed, polled through the proxy", timeout=120)
            assert status_of(f"{url}/v1/jobs/job_deploy_1", RETRY_TOKEN, host="evil.example") == 421
    assert process.returncode == 0, lines
    assert statuses[:2] == [502, 502]
    assert [state for i, state in enumerate(states) if not i or state != states[i - 1]] == STEPS
    assert validate(output).returncode == 0, validate(output).stdout
    document = yaml.safe_load(output.read_text(encoding="utf-8"))
    assert document["faults"] == [
        {"match": {"method": "GET", "path": "/v1/jobs/job_deploy_1"}, "status": 502, "times": 2,
         "body": document["faults"][0]["body"]}
    ]  # fmt: skip
    assert [s["state"] for s in steps_of(output, "job_deploy_1")] == STEPS
    assert RETRY_TOKEN not in output.read_text(encoding="utf-8") + "".join(lines)

    with serving(["--scenario", str(output), "--quiet", "--paused"]) as replay:
        token = recorded_token(output)
        replayed = [status_of(f"{replay.url}/v1/jobs/job_deploy_1", token) for _ in range(3)]
    assert replayed == [502, 502, 200]  # the replay fails the same way


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (["--project-id", "proj_nope"], "is --project-id 'proj_nope' right?"),
        (
            ["--project-id", "proj_web", "--job-id", "job_nope"],
            "is --job-id 'job_nope' a job of this token's?",
        ),
    ],
)
def test_a_wrong_project_or_job_stops_before_recording(more: list[str], message: str, tmp_path: Path) -> None:
    with serving(["--scenario", "happy-path", "--quiet"]) as real:
        args = ["--base-url", real.url, *more, "-o", str(tmp_path / "x.yaml")]
        done = record(*args, token="capy_live_web_happy_7d41c0a9e2b3f658")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_the_proxy_records_timeouts_as_504_faults_but_not_an_unreachable_target(tmp_path: Path) -> None:
    frames = {"job_one": [job("job_one", "pending", 0)]}
    slow, dead = tmp_path / "slow.yaml", tmp_path / "dead.yaml"
    with (
        scripted(frames, {"/v1/jobs/job_one": [0]}) as (target, _),
        proxying(target, slow, "--timeout", TIMEOUT) as (url, _, _),
    ):
        assert status_of(f"{url}/v1/jobs/job_one", SECRET) == 504
        assert get(f"{url}/v1/jobs/job_one", SECRET)["job"]["state"] == "pending"
    with proxying("http://127.0.0.1:1", dead) as (url, _, _):
        assert status_of(f"{url}/v1/jobs/job_one", SECRET) == 502
    faults = yaml.safe_load(slow.read_text(encoding="utf-8"))["faults"]
    timed_out = {"match": {"method": "GET", "path": "/v1/jobs/job_one"}, "status": 504, "delay": TIMEOUT}
    assert faults == [{**timed_out, "times": 1}]
    assert "faults" not in yaml.safe_load(dead.read_text(encoding="utf-8"))
    assert validate(slow).returncode == validate(dead).returncode == 0


def answer_of(url: str, token: str) -> tuple[int, Any]:
    try:
        return 200, get(url, token)
    except urllib.error.HTTPError as failure:
        with failure:
            return failure.code, json.loads(failure.read())


def raw_status(url: str, target: bytes, token: str) -> int:
    """The status of a GET of `target` sent as raw bytes (urllib refuses non-ASCII in a URL)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: " + f"{host}:{port}".encode()
            + f"\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode()
        )  # fmt: skip
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_the_proxy_forwards_a_path_with_a_space_or_non_ascii_and_answers_as_the_deployment(
    tmp_path: Path,
) -> None:
    output = tmp_path / "proxied.yaml"
    with (
        serving(["--scenario", "retry-then-succeed", "--quiet", "--paused"]) as real,
        proxying(real.url, output) as (url, process, lines),
    ):
        for path in ["/v1/jobs/a%20b", "/v1/jobs/caf%C3%A9", "/v1/jobs/a%2520b"]:
            direct = answer_of(f"{real.url}{path}", RETRY_TOKEN)
            assert direct[0] == 404, direct
            assert answer_of(f"{url}{path}", RETRY_TOKEN) == direct
        raw = "/v1/jobs/job_deploy_1?x=café".encode()
        assert raw_status(url, raw, RETRY_TOKEN) == raw_status(real.url, raw, RETRY_TOKEN) != 500
    assert process.returncode == 0, lines
    assert "Traceback" not in "".join(lines)
    assert validate(output).returncode == 0
