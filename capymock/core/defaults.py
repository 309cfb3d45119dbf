"""The names a mock uses when nobody gives one."""

DEFAULT_ORGANIZATION = "org_demo"
DEFAULT_PROJECT = "proj_demo"
DEFAULT_TOKEN = "capy_live_demo_4f1c9a7e2b8d6035"
GENERATE_EVERY = "1m"
"""How far apart a scenario's generated jobs are created, unless its `every` says otherwise."""
GENERATED_TYPES = ("build", "deploy", "test", "migrate", "backup")
"""The job types generated jobs are drawn from, unless a scenario's `types` says otherwise."""
MAX_CONTROL_BODY = 1024 * 1024
"""The largest body a control request may have, an inline scenario included (`serve --max-body`)."""
MAX_JOBS = 20_000
"""The most jobs one load may hold in all, aliases expanded and `generate` entries counted
(`serve --max-jobs`): 20,000 load in a few seconds and hold about 30 MB."""
SESSION_JOB_BUDGET = 100_000
"""The most jobs the live sessions of one server hold together (`serve --max-session-jobs`):
about 130 MB."""
SESSION_BYTE_BUDGET = 32 * 1024 * 1024
"""The most bytes of scenario text the live sessions of one server were loaded from together
(`serve --max-session-bytes`): a scenario holds about three times its text."""
