"""OpenAPI files -> `Spec`: the bundled `openapi.yaml` by default, the same bytes parsed once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from capymock.core.spec import Spec, parse_document, read_spec
from capymock.errors import SpecError
from capymock.system import documents

BUNDLED_SPEC = Path(__file__).parent.parent / "openapi.yaml"


def load_spec(path: str | Path | None = None) -> Spec:
    """Load and check an OpenAPI document (default: the bundled `openapi.yaml`).

    Loading a file of the same bytes again returns the same `Spec`.

    Raises:
        SpecError: the file is missing, is not YAML, or lacks what capymock needs.
    """
    resolved = Path(path) if path is not None else BUNDLED_SPEC
    try:
        source = documents.read_file(resolved)
    except documents.UnreadableFile as exc:
        reason = exc.reason.removeprefix("cannot read: ").removesuffix("; give a YAML file")
        raise SpecError(f"{resolved}: cannot read the OpenAPI document ({reason})") from None
    key = (str(resolved), documents.digest(source))
    with _LOCK:
        found = _LOADED.get(key)
        if found is not None:
            _LOADED.move_to_end(key)
            return found
    spec = _load(key[0], source)
    with _LOCK:
        _LOADED[key] = spec
        while len(_LOADED) > 8:
            _LOADED.popitem(last=False)
    return spec


_LOADED: OrderedDict[tuple[str, str], Spec] = OrderedDict()
"""The specs loaded last, by path and hash of their bytes (so the same bytes give the same `Spec`)."""
_LOCK = threading.Lock()


def _load(path: str, source: bytes) -> Spec:
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: cannot read the OpenAPI document ({exc})") from None
    document = documents.recall("spec", source)
    if document is None:
        document = parse_document(text, path)
        documents.keep("spec", source, document)
    return read_spec(document, text, path)
