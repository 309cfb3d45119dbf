"""The web edge: the WSGI app (API and control API), the operation handlers, the dashboard, and
the servers that run it (werkzeug in-process, waitress for `capymock serve`)."""
