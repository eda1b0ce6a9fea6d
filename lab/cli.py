"""What every `python -m lab.X` command shares: progress on stdout, a LabError as one line on stderr.

Library code never prints or exits; only the main() functions use this.
"""
import sys
from collections.abc import Callable

from lab.inventory import LabError


def say(line: str) -> None:
    """Progress, flushed at once so `make` shows it while a long step runs."""
    print(line, flush=True)


def run(command: Callable[[], int]) -> int:
    """command()'s exit code, or 1 after one `lab: MESSAGE` line when it raises LabError."""
    try:
        return command()
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr, flush=True)
        return 1
