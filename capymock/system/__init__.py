"""What the core may not touch: files, the environment and the wall clock.

`specs` reads OpenAPI files (the bundled one by default), `documents` keeps parsed documents
in the cache folder the environment names, and `clock` holds the clock that reads real time.
Everything above asks these; the core below never does.
"""
