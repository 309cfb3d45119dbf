"""The one YAML loader capymock parses with (the spec and scenario files): PyYAML's safe
loader, its C implementation where installed."""

from __future__ import annotations

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
