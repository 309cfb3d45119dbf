"""The web edge: the WSGI app (API and control API), the operation handlers, the dashboard, and
the servers that run it (werkzeug in-process; granian, else waitress, for `capymock serve`)."""
