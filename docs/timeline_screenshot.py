"""Draws docs/timeline.png, the README's picture of the timeline: `capymock serve` with
retry-then-succeed paused, the job read by a client once a second into its retry, the page
opened in Debian's chromium by Playwright (`pip install playwright`; `apt-get install chromium`).

    .venv/bin/python docs/timeline_screenshot.py
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
TOKEN = "capy_live_web_0123456789abcdef"


def call(url: str, body: object | None = None, token: str | None = None) -> int:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def main() -> None:
    command = [sys.executable, "-m", "capymock", "serve", "--port", "0", "--quiet"]
    server = subprocess.Popen(
        [*command, "--scenario", "retry-then-succeed", "--paused"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = next(m.group(1) for line in server.stdout if (m := re.search(r"mock at (http://\S+)", line)))
        read = f"{url}/v1/jobs/job_deploy_1"
        # A client reads the job once a second into its retry: the retry's claim waits for a
        # second read, so what comes after it is still to come.
        for _ in range(9):
            call(read, token=TOKEN)
            call(f"{url}/_capymock/advance", {"seconds": 1})
        call(read, token=TOKEN)
        call(f"{url}/_capymock/advance", {"seconds": 2})
        call(
            f"{url}/_capymock/jobs",
            {"id": "job_build_7", "project_id": "proj_web", "type": "build", "state": "running"},
        )
        call(
            f"{url}/_capymock/faults", {"match": {"path": "/v1/jobs/job_build_7"}, "status": 503, "times": 2}
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 560}, device_scale_factor=1)
            page.goto(f"{url}/_capymock/timeline#span=15")
            page.wait_for_selector("[data-lane=job_build_7] .fault-mark")
            page.click("[data-lane=job_deploy_1] .bar[data-index='3']")
            page.wait_for_selector("#detail:not([hidden])")
            page.screenshot(path=str(HERE / "timeline.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
