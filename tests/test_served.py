"""The one wiring of a served app (`capymock.web.served`) as its users meet it: the stop timer of
`record --proxy --duration`, and the same access rules in `capymock.serve()` as in `serve`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import capymock
from cli_helpers import CAPYMOCK, serving
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
