"""`python -m summariser FILE... [--json] [--engine ...]`: see summariser.cli."""

import sys

from summariser.cli import main

if __name__ == "__main__":
    sys.exit(main())
