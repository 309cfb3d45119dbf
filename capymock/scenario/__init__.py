"""Scenario files: YAML with locations, the JSON Schema, error wording, semantic checks, and the
loader that turns a file into a checked `Scenario` (see `model`)."""
