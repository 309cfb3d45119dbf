"""Shared test helpers: a real HTTP client, and an independent check of every reply
against openapi.yaml (python-jsonschema, not the mock's own validators)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import hypothesis
import jsonschema
import pytest
import referencing
import yaml

import capymock

pytest_plugins = ["pytester"]

hypothesis.settings.register_profile("capymock-tests", deadline=None)
hypothesis.settings.load_profile("capymock-tests")  # no time limit per example (also for pytester's runs)

_MADE_CACHE: list[str] = []
_CACHE_PREFIX = "capymock-cache-"


def pytest_configure(config: pytest.Config) -> None:
    """Parsed documents go to a folder of this process, not the user's cache (the suite parses
    hundreds of files it writes to temporary folders), nor one shared with other xdist workers
    (a test that checks what is kept must see only its own worker's entries). Subprocesses
    inherit it through the environment."""
    given = os.environ.get("CAPYMOCK_CACHE")
    if given is None or Path(given).name.startswith(_CACHE_PREFIX):  # unset, or the controller's
        os.environ["CAPYMOCK_CACHE"] = tempfile.mkdtemp(prefix=_CACHE_PREFIX)
        _MADE_CACHE.append(os.environ["CAPYMOCK_CACHE"])


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _MADE_CACHE:
        shutil.rmtree(folder, ignore_errors=True)


T = TypeVar("T")


def wait_for(predicate: Callable[[], T], what: str, timeout: float = 30.0, interval: float = 0.01) -> T:
    """Call `predicate` until it returns something true, and return that; fail naming `what`
    after `timeout` seconds. The one way a test waits: for an event, never for a duration."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}, in vain")
        time.sleep(interval)  # until `predicate` sees the event (deadline `timeout`)


ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi.yaml"
BREAKS_GET_JOB = (
    '        job:\n          $ref: "#/components/schemas/Job"',
    '        job:\n          $ref: "#/components/schemas/Job"\n          maxProperties: 0',
)
"""A replacement in the spec's text after which every `getJob` answer of the mock breaks it."""
DATA = Path(__file__).resolve().parent / "data"


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats constrain strings only
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


FORMATS = jsonschema.FormatChecker()
FORMATS.checks("date-time", raises=ValueError)(_date_time)


class SpecOracle:
    """Independent reading of openapi.yaml: which operation a path is, what it documents."""

    def __init__(self, path: Path) -> None:
        self.document = yaml.safe_load(path.read_text())
        resource = referencing.Resource.from_contents(self.document, referencing.jsonschema.DRAFT202012)
        self.registry = referencing.Registry().with_resource("urn:spec", resource)
        self.routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), method.upper(), op)
            for template, item in self.document["paths"].items()
            for method, op in item.items()
        ]

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        method = "GET" if method == "HEAD" else method
        return next((op for rx, m, op in self.routes if m == method and rx.match(path)), None)

    def validator(self, ref: str) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(
            {"$ref": f"urn:spec#{ref}"}, registry=self.registry, format_checker=FORMATS
        )

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        op = self.operation(method, path)
        if op is None:
            assert status in (404, 405), f"{method} {path}: no operation, yet {status}"
            self.validator("/components/schemas/Error").validate(body)
            return
        responses = op["responses"]
        assert str(status) in responses, f"{op['operationId']}: status {status} is not in the spec"
        response = responses[str(status)]
        if "$ref" in response:
            response = self.document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        schema = response["content"]["application/json"]["schema"]
        self.validator(schema["$ref"][1:]).validate(body)


ORACLE = SpecOracle(SPEC_PATH)


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


def http(
    url: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    timeout: float = 30,
) -> Reply:
    """One real HTTP request; HTTP errors are replies, not exceptions.

    A non-bytes body is sent as JSON; bytes are sent as YAML unless `headers` say otherwise.
    """
    headers = dict(headers or {})
    if body is not None and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/yaml" if isinstance(body, bytes) else "application/json"
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


class Api:
    """A client of a served mock that checks every reply against the spec."""

    def __init__(self, mock: capymock.Mock) -> None:
        self.mock = mock

    def get(
        self,
        path: str,
        token: str | None = "default",
        method: str = "GET",
        check: bool = True,
        **headers: str,
    ) -> Reply:
        """`method path` with the mock's token (or `token`); `check=False` for deliberate off-spec answers."""
        if token == "default":
            token = self.mock.token
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        reply = http(self.mock.url + path, method, headers)
        assert reply.headers["Content-Type"] == "application/json"
        if check and method != "HEAD":
            ORACLE.check(method, path.split("?")[0], reply.status, reply.body)
        return reply


@pytest.fixture
def mock() -> Iterator[capymock.Mock]:
    """A mock served over HTTP for one test; its own failures are raised at teardown."""
    with capymock.serve() as served:
        yield served


@pytest.fixture
def api(mock: capymock.Mock) -> Api:
    return Api(mock)


# -- Chromium (Debian's, driven by Playwright) --------------------------------------------------

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)"
)
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium for the test (a test using it is marked `needs_chromium`, or its module is)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield launched
        launched.close()
