"""The running state: scripted steps (timeline), armed faults, one atomic world, and the fake API
that loads, resets and steers it."""
