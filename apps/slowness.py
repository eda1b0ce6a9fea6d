"""The apps' /slow endpoint: a request that takes a while, so concurrency shows without a server flag."""

import time

MAX_SECONDS = 30.0


def pause(seconds_text):
    """Sleep ?seconds=N (default 1, at most MAX_SECONDS) and say how long; a bad value sleeps nothing."""
    try:
        seconds = min(max(float(seconds_text if seconds_text is not None else 1.0), 0.0), MAX_SECONDS)
    except ValueError:
        seconds = 0.0
    if seconds != seconds:  # nan
        seconds = 0.0
    time.sleep(seconds)
    return seconds
