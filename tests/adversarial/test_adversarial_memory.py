"""Remembered answers against a cache-buster: distinct query strings sent to many sessions of
one served mock. The answers all draw on one budget for the process (`--answer-cache`), so the
server's memory is bounded by it, not by sessions times answers. Measured as the RSS of the server
process, from outside."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

from cli_helpers import serving

BUSY_TOKEN = "capy_live_busy_6b3f8e0d2a9c7154"
SESSIONS, QUERIES = 20, 130


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


def test_distinct_queries_to_many_sessions_stay_within_the_answer_cache() -> None:
    with serving(["--scenario", "busy-project", "--quiet", "--answer-cache", "8MB"]) as served:
        parts = urlsplit(served.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

        def call(method: str, path: str, body: object = None, token: str | None = None) -> tuple[int, bytes]:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            connection.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = connection.getresponse()
            return response.status, response.read()

        before = rss_mb(served.process.pid)
        sizes = []
        for _ in range(SESSIONS):
            status, body = call("POST", "/_capymock/sessions", {"scenario": "busy-project"})
            assert status == 201, body
            base = urlsplit(json.loads(body)["base_url"]).path
            for k in range(QUERIES):  # a frontend cache-buster: `_=timestamp`
                status, body = call(
                    "GET", f"{base}/v1/projects/proj_busy/jobs?limit=100&_={k}", token=BUSY_TOKEN
                )
                assert status == 200
                sizes.append(len(body))
        after = rss_mb(served.process.pid)
        connection.close()
    sent = sum(sizes) / 2**20
    assert sent > 100  # the answers alone, remembered, would have taken this much
    assert after - before < 60, f"RSS grew {after - before:.0f} MB for {sent:.0f} MB of distinct answers"
