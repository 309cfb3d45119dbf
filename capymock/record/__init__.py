"""`capymock record`: watch a deployment (by polling it, or as a proxy in front of it) and write a
scenario whose jobs walk the states it saw, with the timing it saw."""
