"""The timeline at 1,000 jobs: what a poll of the page costs the server, and what drawing it
costs the browser. Run from the repository root (needs Playwright and Debian's chromium):

    .venv/bin/python benchmarks/timeline.py

`capymock serve` (paused) holds 1,000 jobs, each scripted through four states, every step
fired and each job read twice. Measured over HTTP on 127.0.0.1 (medians of 30):
`GET /_capymock/history` for the 36 lanes a 800-pixel window asks for, the same with every
lane (`limit=1000`), and the 36 per-job `GET /_capymock/jobs/{id}/history` a page without the
batched route would send each poll. In chromium: the lanes the page keeps in its DOM, and
one full redraw of them (median of 30, `performance.now()` around the page's `render`).
Prints a markdown table (also written to `benchmarks/results/timeline.md`).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

JOBS = 1000
REPEATS = 30
HERE = Path(__file__).resolve().parent
SERVE = [sys.executable, "-m", "capymock", "serve", "--port", "0", "--quiet", "--paused"]


def scenario() -> str:
    lines = [
        "name: thousand",
        'start: "2026-01-01T09:00:00Z"',
        "organization: org_demo",
        "projects: [proj_a]",
    ]
    lines.append("tokens:\n  - {token: capy_live_bench_0123456789abcdef, project: proj_a}\njobs:")
    for n in range(JOBS):
        lines.append(
            f"  - {{id: job_{n:04d}, project: proj_a, type: build, steps: [{{state: pending}}, "
            f"{{after: {1 + n % 7}s, state: claimed, claimed_by: w}}, "
            f"{{after: {2 + n % 5}s, state: running}}, "
            f"{{after: {3 + n % 11}s, state: succeeded, last_exit_code: 0}}]}}"
        )
    return "\n".join(lines) + "\n"


def get(url: str, token: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
        return bytes(response.read())


def median_ms(action: object, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()  # type: ignore[operator]
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    (folder / "thousand.yaml").write_text(scenario())
    server = subprocess.Popen(
        [*SERVE, "--scenario", str(folder / "thousand.yaml")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = next(m.group(1) for line in server.stdout if (m := re.search(r"mock at (http://\S+)", line)))
        request = urllib.request.Request(
            f"{url}/_capymock/advance", data=b'{"seconds": 30}', headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=60).read()
        for n in range(JOBS):
            for _ in range(2):
                get(f"{url}/v1/jobs/job_{n:04d}", "capy_live_bench_0123456789abcdef")
        window = median_ms(lambda: get(f"{url}/_capymock/history?limit=36"))
        whole = median_ms(lambda: get(f"{url}/_capymock/history?limit=1000"), 5)
        size = len(get(f"{url}/_capymock/history?limit=36"))
        ids = [lane["job_id"] for lane in json.loads(get(f"{url}/_capymock/history?limit=36"))["lanes"]]
        single = median_ms(lambda: [get(f"{url}/_capymock/jobs/{i}/history") for i in ids], 5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{url}/_capymock/timeline")
            page.wait_for_function(
                "() => document.getElementById('count').textContent.startsWith('1000 jobs')"
            )
            lanes = len(page.query_selector_all(".lane"))
            draw = page.evaluate(
                """n => { const t = []; for (let i = 0; i < n; i++) {
                     drawn = ""; const s = performance.now(); render(); t.push(performance.now() - s); }
                   t.sort((a, b) => a - b); return t[Math.floor(n / 2)]; }""",
                REPEATS,
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
    table = "\n".join(
        [
            f"The timeline at {JOBS:,} jobs (4 states each, 2 reads each; 2 shared cores, medians)",
            "",
            "| what | figure |",
            "|---|---|",
            "| `GET /_capymock/history?limit=36` (the lanes an 800 px window asks for) "
            f"| {window:.1f} ms, {size / 1000:.0f} KB |",
            f"| `GET /_capymock/history?limit=1000` (every lane) | {whole:.0f} ms |",
            f"| the same 36 lanes as 36 `GET /_capymock/jobs/{{id}}/history` | {single:.0f} ms |",
            f"| lanes in the page's DOM | {lanes} of {JOBS:,} |",
            f"| one redraw of them in chromium | {draw:.1f} ms |",
        ]
    )
    print(table)
    (HERE / "results" / "timeline.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
