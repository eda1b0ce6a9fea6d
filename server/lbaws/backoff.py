"""Waiting out exhaustion: what a fixed stage does while accept() or fork() finds no descriptor or process.

The call is retried after pauses that double up to a ceiling: no busy loop while nothing is free, and no
longer than the ceiling between a descriptor freeing up and the next try. One line when the trouble
starts and one when it ends, however many retries lie between: a log line per retry would bury the log.
"""

import time

from lbaws.logs import log

FIRST_PAUSE = 0.005
LONGEST_PAUSE = 0.1


class Backoff:
    """The retry state of one call (`accept()`, `fork()`); `failed` sleeps, `succeeded` ends an episode."""

    def __init__(self, call, first=FIRST_PAUSE, longest=LONGEST_PAUSE, sleep=time.sleep, clock=time.monotonic):
        self.call = call
        self.first = first
        self.longest = longest
        self._sleep = sleep
        self._clock = clock
        self.failures = 0
        self.pause = first
        self.since = 0.0

    def failed(self, exc, consequence="retrying"):
        if not self.failures:
            self.since = self._clock()
            log.warning("%s failed: %s; %s, backing off until it works again", self.call, exc, consequence)
        self.failures += 1
        self._sleep(self.pause)
        self.pause = min(self.pause * 2, self.longest)

    def succeeded(self):
        if self.failures:
            log.warning("%s works again after %d failures over %.2f s", self.call, self.failures,
                        self._clock() - self.since)
        self.failures = 0
        self.pause = self.first
