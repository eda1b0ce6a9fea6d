"""python -m lbaws.client: the same as the lbaws-client script."""

import sys

from .command import main

sys.exit(main())
