"""Helpers of tests/watch: a real `lbaws watch` (lbaws serve prefork and its workers) on a free loopback port, over a tmp folder."""
import os
import subprocess
import sys
import time
from pathlib import Path

from watch import launch

LBAWS = str(Path(sys.executable).parent / "lbaws")


def children(pid: int) -> list:
    """The PIDs whose parent is `pid`, from /proc: processes by relation."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry))
    return found


class Watching:
    def __init__(self, reports: Path):
        self.reports = reports
        self.port = launch.free_port()
        self.process = subprocess.Popen([LBAWS, "watch", "--port", str(self.port), "--reports", str(reports)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.line = self.process.stdout.readline()
        deadline = time.monotonic() + 15
        while launch.ping(self.port) is None:
            assert self.process.poll() is None and time.monotonic() < deadline, self.process.stderr.read()
            time.sleep(0.1)

    def url(self, path="/"):
        return launch.url(self.port, path)

    def stop(self):
        tree = [self.process.pid] + children(self.process.pid)
        tree += [pid for master in list(tree) for pid in children(master) if pid not in tree]
        self.process.terminate()
        self.process.wait(15)
        return tree
