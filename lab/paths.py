"""Where the lab's sources and its cache live on the host."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Overridable so a second set of images (e.g. a cold-build measurement) can sit beside the first.
CACHE = Path(os.environ.get("LBAWS_CACHE") or ROOT / ".cache")
