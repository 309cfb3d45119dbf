"""The spec's paths as a router."""

from __future__ import annotations

import pytest

import capymock
from capymock.core.routing import NoRoute, Router, WrongMethod, template_pattern


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(capymock.load_spec())


def test_a_path_is_matched_with_its_parameters(router: Router) -> None:
    found = router.match("GET", "/v1/projects/proj_a/jobs")
    assert (found.operation.operation_id, found.path_parameters) == (
        "listProjectJobs",
        {"projectID": "proj_a"},
    )


def test_head_is_served_by_get(router: Router) -> None:
    assert router.match("HEAD", "/v1/jobs/job_1").operation.operation_id == "getJob"


def test_an_unknown_path_has_no_route(router: Router) -> None:
    with pytest.raises(NoRoute) as missing:
        router.match("GET", "/v1/jobs/job_1/")
    assert str(missing.value) == "/v1/jobs/job_1/"


def test_a_wrong_method_names_the_allowed_ones(router: Router) -> None:
    with pytest.raises(WrongMethod) as wrong:
        router.match("DELETE", "/v1/jobs/job_1")
    assert (wrong.value.allowed, str(wrong.value)) == (("GET", "HEAD"), "GET, HEAD")


def test_the_methods_a_path_answers_to(router: Router) -> None:
    assert router.allowed("/v1/jobs/job_1") == ("GET", "HEAD")


def test_a_path_without_operations_answers_to_none(router: Router) -> None:
    assert router.allowed("/v1/nothing") == ()


def test_a_template_has_one_group_per_parameter() -> None:
    pattern, names = template_pattern("/a/{x}/b/{y}/c")
    found = pattern.fullmatch("/a/1/b/2/c")
    assert (names, found.groups() if found else None) == (("x", "y"), ("1", "2"))


def test_a_parameter_is_one_segment() -> None:
    pattern, _ = template_pattern("/a/{x}")
    assert (pattern.fullmatch("/a/1/2"), pattern.fullmatch("/a/")) == (None, None)
