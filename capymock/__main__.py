"""`python -m capymock`: the same as the `capymock` command."""

import sys

from capymock.cli import main

sys.exit(main())
