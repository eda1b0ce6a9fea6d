"""`python -m lbaws` is the `lbaws` command."""

import sys

from lbaws.cli import main

sys.exit(main())
