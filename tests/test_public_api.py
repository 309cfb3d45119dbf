"""`capymock.__all__` is exactly what the package exports, all of it documented; importing the
package or its pytest plugin imports nothing else until a name is used."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

import capymock


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(capymock) if not name.startswith("_")}
    assert set(capymock.__all__) - {"__version__"} == public
    assert capymock.__version__.count(".") == 2


def test_every_export_resolves_and_has_a_docstring() -> None:
    for name in capymock.__all__:
        value = getattr(capymock, name)
        if name != "__version__":
            assert inspect.getdoc(value), name


def test_every_error_derives_from_capymock_error() -> None:
    exported = [getattr(capymock, name) for name in capymock.__all__]
    errors = [e for e in exported if isinstance(e, type) and issubclass(e, Exception)]
    assert {e.__name__ for e in errors} >= {
        "SpecError",
        "ScenarioError",
        "InvalidJob",
        "IllegalTransition",
        "MockDefect",
        "ContractError",
    }
    assert all(issubclass(e, capymock.CapymockError) for e in errors)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Mokc'"):
        capymock.Mokc  # noqa: B018


def test_the_old_name_of_mock_defect_still_works_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match="capymock.MockFailure is now capymock.MockDefect"):
        assert capymock.MockFailure is capymock.MockDefect


def _modules_after(statement: str) -> list[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(result.stdout))


def test_importing_the_pytest_plugin_imports_no_other_capymock_module() -> None:
    loaded = _modules_after("import capymock.pytest_plugin")
    assert [m for m in loaded if m.startswith("capymock")] == ["capymock", "capymock.pytest_plugin"]
    assert "yaml" not in loaded and "jsonschema_rs" not in loaded


def test_importing_the_package_is_free_until_a_name_is_used() -> None:
    assert [m for m in _modules_after("import capymock") if m.startswith("capymock")] == ["capymock"]
    used = _modules_after("import capymock; capymock.ScenarioError")
    assert [m for m in used if m.startswith("capymock")] == ["capymock", "capymock.errors"]


def test_a_suite_that_uses_no_capymock_fixture_loads_no_capymock_module(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_untouched():
            loaded = sorted(m for m in sys.modules if m.startswith("capymock"))
            assert loaded == ["capymock", "capymock.pytest_plugin"], loaded
        """
    )
    pytester.runpytest_subprocess("-p", "no:xdist").assert_outcomes(passed=1)
