"""Run once more, one at a time, the tests the last pytest run recorded as failed (`make test`).

pytest's own `--last-failed` cannot do it here: xdist's loadgroup records each grouped test under its
id with `@group` appended, which matches no collected test, and pytest then runs the whole suite again.
"""
import json
import os
import sys
from pathlib import Path

CACHE = Path(__file__).resolve().parents[1] / ".pytest_cache" / "v" / "cache" / "lastfailed"


def failed_ids(cache: Path = CACHE) -> list:
    try:
        recorded = json.loads(cache.read_text())
    except (OSError, ValueError):
        return []
    return sorted({test_id.split("@", 1)[0] for test_id in recorded})


def main() -> int:
    ids = failed_ids()
    if not ids:
        print("make test: the run failed, but recorded no failed test to run again", file=sys.stderr)
        return 1
    print(f"make test: the {len(ids)} test(s) that failed beside the rest, once more, one at a time:", flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "pytest", "-n", "0", *ids])


if __name__ == "__main__":
    sys.exit(main())
