"""The one wiring of a served app (`capymock.web.served`) as its users meet it: the stop timer of
`record --proxy --duration`, and the same access rules in `capymock.serve()` as in `serve`."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

import capymock
from cli_helpers import CAPYMOCK, read_banner, serving
from conftest import http

pytestmark = pytest.mark.slow


def test_a_recording_proxy_stops_itself_after_its_duration_and_writes_what_passed(tmp_path: Path) -> None:
    output = tmp_path / "proxied.yaml"
    with serving(["--quiet"]) as real:
        done = subprocess.run(
            [*CAPYMOCK, "record", "--proxy", "--target", real.url, "--port", "0", "--duration", "300ms",
             "-o", str(output)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "capymock record: forwarding http://127.0.0.1:" in done.stderr
    assert f"capymock record: wrote {output}: 0 jobs" in done.stderr
    assert output.read_text().startswith("# yaml-language-server: $schema=")


def test_the_python_api_answers_loopback_and_refuses_another_host() -> None:
    with capymock.serve("demo") as mock:
        assert mock.url is not None
        auth = {"Authorization": f"Bearer {mock.token}"}
        assert http(f"{mock.url}/_capymock/state", headers=auth).status == 200
        refused = http(f"{mock.url}/_capymock/state", headers={**auth, "Host": "evil.example"})
        assert refused.status == 421, refused
        assert "evil.example" in json.dumps(refused.body)


def test_a_stop_while_a_scenario_loads_ends_cleanly() -> None:
    """SIGTERM while the app is inside a long request (a 20,000-job scenario being loaded): the
    server waits for it a moment, or leaves saying so; never a crash on the terminal."""
    process = subprocess.Popen(
        [*CAPYMOCK, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    banner = read_banner(process)
    found = re.search(r"mock at http://127.0.0.1:(\d+)", banner)
    assert found, banner
    scenario = b"name: big\nprojects: [p]\njobs:\n  - {generate: 20000, project: p}\n"
    head = (
        f"POST /_capymock/scenario HTTP/1.1\r\nHost: 127.0.0.1:{found.group(1)}\r\n"
        f"Content-Type: application/yaml\r\nContent-Length: {len(scenario)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", int(found.group(1))), timeout=30) as client:
        client.sendall(head.encode() + scenario)  # the whole request is with the server
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "panicked" not in stderr and "Traceback" not in stderr, stderr
