"""OpenAPI files -> `Spec`: the bundled `openapi.yaml` by default, each unchanged file read once."""

from __future__ import annotations

import functools
from pathlib import Path

from capymock.core.spec import Spec, parse_document, read_spec
from capymock.errors import SpecError
from capymock.system import documents

BUNDLED_SPEC = Path(__file__).parent.parent / "openapi.yaml"


def load_spec(path: str | Path | None = None) -> Spec:
    """Load and check an OpenAPI document (default: the bundled `openapi.yaml`).

    Loading the same unchanged file again returns the same `Spec`.

    Raises:
        SpecError: the file is missing, is not YAML, or lacks what capymock needs.
    """
    resolved = Path(path) if path is not None else BUNDLED_SPEC
    try:
        stat = resolved.stat()
    except OSError as exc:
        raise SpecError(f"{resolved}: cannot read the OpenAPI document ({exc.strerror})") from None
    return _load_cached(str(resolved), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int) -> Spec:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the OpenAPI document ({exc})") from None
    document = documents.recall("spec", path, size, mtime_ns)
    if document is None:
        document = parse_document(text, path)
        documents.keep("spec", path, size, mtime_ns, document)
    return read_spec(document, text, path)
