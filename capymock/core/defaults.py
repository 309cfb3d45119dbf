"""The names a mock uses when nobody gives one."""

DEFAULT_ORGANIZATION = "org_demo"
DEFAULT_PROJECT = "proj_demo"
DEFAULT_TOKEN = "capy_live_demo_4f1c9a7e2b8d6035"
GENERATE_EVERY = "1m"
"""How far apart a scenario's generated jobs are created, unless its `every` says otherwise."""
GENERATED_TYPES = ("build", "deploy", "test", "migrate", "backup")
"""The job types generated jobs are drawn from, unless a scenario's `types` says otherwise."""
