"""What Ctrl-C (or SIGTERM) may cut: a run's cleanup never, an engine request that creates something not halfway."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def uninterrupted():
    """Cleanup must finish: a second Ctrl-C (or SIGTERM) during it would leave containers behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {signum: signal.signal(signum, signal.SIG_IGN) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


@contextmanager
def held():
    """The signal acts once the request is answered. Cut off mid-request, the engine still creates the
    container, after the cleanup has listed the run's label, and it is left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    saved = {signum: signal.signal(signum, lambda signum, _frame: caught.append(signum)) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        if caught:
            signal.raise_signal(caught[0])
