"""Property tests of the example client with hypothesis and the `capy_mock` fixture: one mock
for the whole test, reset at the start of each example."""

from __future__ import annotations

from capy_client import CapyClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capymock import strategies


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_client_reads_any_job_the_lifecycle_can_produce(capy_mock, data):
    capy_mock.reset()  # each example starts from the same state: the fixture is made once per test
    job = data.draw(strategies.jobs(mock=capy_mock))  # in the mock's organization and projects
    capy_mock.add_job(**job)
    assert CapyClient(capy_mock.url, capy_mock.token).get_job(job["id"]) == job
