"""The README's examples work as printed."""

from __future__ import annotations

import re

from conftest import ROOT

README = (ROOT / "README.md").read_text()


BLOCKS = re.findall(r"```python\n(.*?)```", README, re.DOTALL)


def test_the_plugin_examples_are_the_example_suites_verbatim() -> None:
    plugin_blocks = [block for block in BLOCKS if "capy_mock" in block]
    examples = [path.read_text() for path in sorted((ROOT / "examples").glob("test_*.py"))]
    assert len(plugin_blocks) == 2
    for block in plugin_blocks:
        assert any(block in example for example in examples), block


def test_the_python_api_example_runs() -> None:
    (code,) = [block for block in BLOCKS if "capy_mock" not in block]
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    assert tests
    for test in tests:
        test()


def test_the_first_screen_has_both_set_up_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:40])
    assert "make serve" in first_screen and "make test" in first_screen


def test_the_printed_token_is_the_one_serve_prints() -> None:
    import capymock

    assert f"Bearer {capymock.Mock().token}'" in README
