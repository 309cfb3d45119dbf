"""The sans-IO core: the spec and everything read from it, jobs and their lifecycle, the store,
clocks, auth, routing, validation and the request journal.

Values in, values out: nothing here serves HTTP, reads the system clock (only
`clock.SystemClock` does), or imports werkzeug, pytest, hypothesis, schemathesis or click.
"""
