"""`capymock.__all__` is exactly what the package exports, and all of it is documented."""

from __future__ import annotations

import inspect

import capymock


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name in vars(capymock)
        if not name.startswith("_") and not inspect.ismodule(vars(capymock)[name])
    }
    assert set(capymock.__all__) - {"__version__"} == public
    assert capymock.__version__.count(".") == 2


def test_every_export_has_a_docstring() -> None:
    for name in capymock.__all__:
        if name != "__version__":
            assert inspect.getdoc(getattr(capymock, name)), name


def test_every_error_derives_from_capymock_error() -> None:
    exported = [getattr(capymock, name) for name in capymock.__all__]
    errors = [e for e in exported if isinstance(e, type) and issubclass(e, Exception)]
    assert {e.__name__ for e in errors} >= {"SpecError", "InvalidJob", "IllegalTransition", "MockFailure"}
    assert all(issubclass(e, capymock.CapymockError) for e in errors)
