"""The core: the spec and everything read from it (operations by role, jobs and their lifecycle),
the store, clocks, auth, routing, validation and the request journal.

It touches nothing outside the process: no file, environment variable, wall clock, socket,
process or thread of its own (`capymock.system` reads files, the environment and real time),
and imports no werkzeug, pytest, hypothesis, schemathesis or click. import-linter keeps it so.
"""
