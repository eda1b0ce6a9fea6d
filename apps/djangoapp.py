"""The tutorial's Django application (part 2): `lbaws serve 2 djangoapp:app`, project in helloworld/."""

import os
import sys

# The text puts the project on sys.path relative to the working directory; relative to this file
# the import also works when the server is started from elsewhere with apps/ on PYTHONPATH.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helloworld import wsgi  # noqa: E402

app = wsgi.application
