"""The names a mock uses when nobody gives one."""

DEFAULT_ORGANIZATION = "org_demo"
DEFAULT_PROJECT = "proj_demo"
DEFAULT_TOKEN = "capy_live_demo_4f1c9a7e2b8d6035"
