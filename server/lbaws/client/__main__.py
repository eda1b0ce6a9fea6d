"""python -m lbaws.client: the same as the lbaws-client script."""

import sys

from .cli import main

sys.exit(main())
