"""Every README console block that can run on loopback runs as printed, from the clone.

A block's commands are its `$ ` lines. A `make serve` or `capymock serve` line starts the mock
in the background (until the block ends); a block that calls the mock without starting one
runs against the mock the README started last, as a reader would (`make serve` at first).
Every other command must exit 0, and a `curl` must get JSON that is not an `{"error"}`.

The README's mocks listen on fixed ports (4010, or `--port N`); here each takes a free one
(`PORT=0`, `--port 0`), and the URLs the README prints for it are rewritten to the one its
banner names, so a mock or Prism already on 4010 changes nothing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from cli_helpers import read_banner
from conftest import ROOT

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text()
BLOCKS = [
    textwrap.dedent(block)
    for _, block in re.findall(r"^( *)```console\n(.*?)^\1```", README, re.DOTALL | re.MULTILINE)
    if "\n$ " in "\n" + textwrap.dedent(block)
]
SERVE = re.compile(r"^(make serve|\S*capymock serve)\b")
PORT = re.compile(r" --port (\d+)\b")
README_PORT = "4010"  # where the README's `make serve` listens (the Makefile's default PORT)
NOT_HERE = {
    "capy.example": "checks a real deployment, not loopback",
    "make test": "is what CI runs",
}


def commands(block: str) -> list[str]:
    """The block's `$` lines, continuation lines joined."""
    found: list[str] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            found.append(line[2:])
        elif found and found[-1].endswith("\\"):
            found[-1] = found[-1][:-1] + " " + line.strip()
    return found


def _server_for(block: str) -> str:
    """The block's own serve command, else the last one an earlier block started."""
    server = "make serve"
    for earlier in BLOCKS[: BLOCKS.index(block) + 1]:
        started = [line for line in commands(earlier) if SERVE.match(line)]
        server = started[0] if started else server
    return server


def test_the_readme_has_runnable_blocks() -> None:
    runnable = [block for block in BLOCKS if not any(word in block for word in NOT_HERE)]
    assert len(runnable) >= 4
    assert any("--paused" in block for block in runnable)


def on_a_free_port(command: str) -> tuple[str, str]:
    """`command` listening on a free port, and the URL the README shows for its mock."""
    given = PORT.search(command)
    printed = f"http://127.0.0.1:{given.group(1) if given else README_PORT}"
    if command.startswith("make serve"):
        return f"{command} PORT=0", printed
    return (PORT.sub(" --port 0", command) if given else f"{command} --port 0"), printed


@contextmanager
def serving(command: str, env: dict[str, str], urls: dict[str, str]) -> Iterator[None]:
    """`command` in the background on a free port until the block ends; it must print its banner,
    and `urls` maps the URL the README shows for it to the one the banner names."""
    command, printed = on_a_free_port(command)
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        banner = read_banner(process, timeout=300)  # `make serve` may set up .venv first
        found = re.search(r"mock at (http://\S+)", banner)
        assert found, banner
        urls[printed] = found.group(1)
        yield
    finally:
        urls.pop(printed, None)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def rewritten(command: str, urls: dict[str, str]) -> str:
    """`command` with each mock URL the README prints replaced by the mock's real one."""
    for printed, real in urls.items():
        command = re.sub(re.escape(printed) + r"(?!\d)", real, command)
    return command


def run(command: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
    if command.startswith("curl"):
        body = json.loads(done.stdout)
        assert not (isinstance(body, dict) and "error" in body), f"{command}\n{done.stdout}"


def test_a_served_block_listens_on_a_free_port_and_its_urls_follow() -> None:
    assert on_a_free_port('make serve ARGS="--paused"') == (
        'make serve ARGS="--paused" PORT=0',
        "http://127.0.0.1:4010",
    )
    assert on_a_free_port("capymock serve --port 4011 -q") == (
        "capymock serve --port 0 -q",
        "http://127.0.0.1:4011",
    )
    urls = {"http://127.0.0.1:4010": "http://127.0.0.1:39211"}
    assert rewritten("curl http://127.0.0.1:4010/v1 http://127.0.0.1:40100", urls) == (
        "curl http://127.0.0.1:39211/v1 http://127.0.0.1:40100"
    )


def test_every_console_block_runs_as_printed(tmp_path: Path) -> None:
    """One test, block after block in README order, each mock on a free port."""
    ran = 0
    for block in BLOCKS:
        if any(word in block for word in NOT_HERE):
            continue
        env = {**os.environ, "HOME": str(tmp_path)}
        for variable in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ARGS", "PORT"):  # not `make test ARGS=..`'s
            env.pop(variable, None)
        lines = commands(block)
        urls: dict[str, str] = {}
        with ExitStack() as stack:
            if not any(SERVE.match(line) for line in lines):
                stack.enter_context(serving(_server_for(block), env, urls))
            for line in lines:  # in order: a serve line starts its mock where it stands
                if SERVE.match(line):
                    stack.enter_context(serving(line, env, urls))
                else:
                    run(rewritten(line, urls), env)
        ran += 1
    assert ran >= 4
