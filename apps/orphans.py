"""An app that leaves an orphan per request, for the orphan-reaping scenario.

Served by a forking stage, each request's child forks a grandchild and answers at once; the child
then exits first, so the kernel re-parents the grandchild to the container's PID 1. The grandchild
names itself `orphan` (what ps shows, zombie or not) and exits after ?seconds=N (default 1, at most
10): whether its zombie stays depends on whether PID 1 waits for children it never started.
"""

import os
import time
from urllib.parse import parse_qs

COMM = "orphan"
MAX_SECONDS = 10.0


def _life(environ):
    try:
        seconds = float(parse_qs(environ.get("QUERY_STRING", "")).get("seconds", ["1"])[0])
    except ValueError:
        return 1.0
    return min(max(seconds, 0.0), MAX_SECONDS) if seconds == seconds else 1.0


def _live_as_orphan(seconds):
    """The grandchild: let go of the client's socket, outlive its parent, exit without Python's clean-up."""
    try:
        os.closerange(3, 65536)  # the client must see the end of the response when the child closes
        with open("/proc/self/comm", "w") as comm:
            comm.write(COMM)
        time.sleep(seconds)
    finally:
        os._exit(0)


def app(environ, start_response):
    seconds = _life(environ)
    pid = os.fork()
    if pid == 0:
        _live_as_orphan(seconds)
    body = f"left orphan {pid}, exiting in {seconds:g}s\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
