"""Every README console block that can run on loopback runs as printed, from the clone.

A block's commands are its `$ ` lines. A `make serve` or `capymock serve` line starts the mock
in the background (until the block ends); a block that calls the mock without starting one
runs against the mock the README started last, as a reader would (`make serve` at first).
Every other command must exit 0, and a `curl` must get JSON that is not an `{"error"}`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text()
BLOCKS = [
    textwrap.dedent(block)
    for _, block in re.findall(r"^( *)```console\n(.*?)^\1```", README, re.DOTALL | re.MULTILINE)
    if "\n$ " in "\n" + textwrap.dedent(block)
]
SERVE = re.compile(r"^(make serve|\S*capymock serve)\b")
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


@contextmanager
def serving(command: str, env: dict[str, str]) -> Iterator[None]:
    """`command` in the background until the block ends; it must print its banner."""
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 300
        for line in iter(process.stdout.readline, ""):
            seen.append(line)
            if line.startswith("Press Ctrl-C") or time.monotonic() > deadline:
                break
        assert any(line.startswith("Press Ctrl-C") for line in seen), "".join(seen)
        yield
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run(command: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
    if command.startswith("curl"):
        body = json.loads(done.stdout)
        assert not (isinstance(body, dict) and "error" in body), f"{command}\n{done.stdout}"


def test_every_console_block_runs_as_printed(tmp_path: Path) -> None:
    """One test, block after block in README order: they share port 4010, as a reader's would."""
    ran = 0
    for block in BLOCKS:
        if any(word in block for word in NOT_HERE):
            continue
        env = {**os.environ, "HOME": str(tmp_path)}
        lines = commands(block)
        with ExitStack() as stack:
            if not any(SERVE.match(line) for line in lines):
                stack.enter_context(serving(_server_for(block), env))
            for line in lines:  # in order: a serve line starts its mock where it stands
                if SERVE.match(line):
                    stack.enter_context(serving(line, env))
                else:
                    run(line, env)
        ran += 1
    assert ran >= 4
