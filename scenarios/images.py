"""Which lab image plays which role, and making sure they exist before a run (lab builds them offline)."""
from __future__ import annotations

import docker.errors

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


def missing(engine) -> list:
    absent = []
    for image in names().values():
        try:
            engine.images.get(image)
        except docker.errors.ImageNotFound:
            absent.append(image)
    return absent


def ensure(engine, say) -> None:
    """Build the lab's images when any is missing, so a first `lbaws scenario NAME` sets itself up."""
    absent = missing(engine)
    if not absent:
        return
    say(f"images missing ({', '.join(absent)}): building them with lab.images (offline), once")
    try:
        _lab().ensure_images()
    except SystemExit as exc:  # lab reports its failures with one line and SystemExit
        raise ImageError(f"building the lab's images failed (exit {exc.code})") from None
    except Exception as exc:  # a build that breaks half-way is still one line for the user
        raise ImageError(f"building the lab's images failed: {type(exc).__name__}: {exc}") from None
    still = missing(engine)
    if still:
        raise ImageError(f"images still missing after the build: {', '.join(still)}")
