"""Import a WSGI application given as MODULE:CALLABLE from the current directory, as webserver2.py does."""

import importlib
import os
import sys


class AppLoadError(Exception):
    """The application cannot be loaded; the message is the one line the user sees."""


def load_app(spec):
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise AppLoadError(f"{spec!r} is not MODULE:CALLABLE (for example flaskapp:app)")
    # The console script's sys.path starts at its own bin/ directory, not where the user stands.
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        app = importlib.import_module(module_name)
        for name in attribute.split("."):
            app = getattr(app, name)
    except Exception as exc:
        raise AppLoadError(f"cannot import {spec!r}: {exc}") from None
    if not callable(app):
        raise AppLoadError(f"{spec!r} is a {type(app).__name__}, not a WSGI callable")
    return app
