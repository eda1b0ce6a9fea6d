"""Which lab image plays which role, and making sure they exist and are current before a run."""
from __future__ import annotations

import contextlib
import fcntl
import io

APP_DIR = "/app"


class ImageError(RuntimeError):
    """The lab's images are missing and could not be built."""


def _lab():
    from lab import images as lab_images  # the lab owns names and builds; imported when first needed

    return lab_images


def names() -> dict:
    lab = _lab()
    return {
        "server": lab.SERVER_IMAGE,
        "flask": lab.APP_IMAGES["flask"],
        "pyramid": lab.APP_IMAGES["pyramid"],
        "django": lab.APP_IMAGES["django"],
        "wsgi": lab.APP_IMAGES["wsgi"],
        "client": lab.CLIENT_IMAGE,
    }


def name(role: str) -> str:
    return names()[role]


class _BuildLines(io.TextIOBase):
    """Passes the lab's build progress on, drops its "is up to date" lines: a warm check stays quiet."""

    def __init__(self, say):
        self.say = say
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if line.strip() and "up to date" not in line and "images ready" not in line:
                self.say(line.strip())
        return len(text)


def ensure(say) -> None:
    """Build whatever image is missing or stale (lab.images skips current ones in well under a second).

    A first `lbaws scenario NAME` on a fresh machine thus sets itself up. A file lock keeps two runs
    started together from building into the same context folders at once.
    """
    from lab.common import CACHE

    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "scenario-images.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with contextlib.redirect_stdout(_BuildLines(say)):
                _lab().ensure_images()
        except SystemExit as exc:  # lab reports its failures on stderr and exits
            raise ImageError(f"building the lab's images failed (exit {exc.code}); see the line above") from None
        except Exception as exc:  # a build that breaks half-way is still one line for the user
            raise ImageError(f"building the lab's images failed: {type(exc).__name__}: {exc}") from None
