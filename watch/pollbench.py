"""How fast the page answers a class: N clients polling a run's JSON at once, on loopback only.

    python -m watch.pollbench --port 8765 --run fd-exhaustion [--clients 50] [--polls 20] [--interval 0.5]

Each client keeps its own connection and asks /api/run/RUN?since=0 (the heaviest poll: the whole file)
`polls` times, waiting `interval` seconds after each answer as the page does (watch.js's POLL_MS);
`--interval 0` polls back to back, which measures how many the server can answer rather than how soon
it answers a class. Every answer's time is kept and p50, p99 and the worst are printed. Bounded in count
(clients x polls, 1000 at most by default) and in time (--deadline seconds).
"""
from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import threading
import time

HOST = "127.0.0.1"  # load goes to this machine's loopback only
PAGE_INTERVAL = 0.5  # watch/static/watch.js: POLL_MS, a live run read twice a second


def client(port: int, path: str, polls: int, interval: float, deadline: float, times: list, failures: list,
           start: threading.Barrier):
    start.wait()
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    for poll in range(polls):
        if poll and interval:
            time.sleep(interval)
        if time.monotonic() > deadline:
            failures.append("deadline")
            break
        began = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(f"status {response.status}")
            if response.getheader("Connection", "").lower() == "close" or response.version == 10:
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=10)
        except (OSError, http.client.HTTPException) as exc:
            failures.append(type(exc).__name__)
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=10)
            continue
        times.append(time.perf_counter() - began)
    connection.close()


def percentile(values: list, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m watch.pollbench", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--run", required=True, help="the run's address on the page, e.g. fd-exhaustion")
    parser.add_argument("--clients", type=int, default=50, choices=range(1, 201), metavar="N")
    parser.add_argument("--polls", type=int, default=20, choices=range(1, 101), metavar="N")
    parser.add_argument("--interval", type=float, default=PAGE_INTERVAL,
                        help=f"seconds between a client's answer and its next poll (default {PAGE_INTERVAL}, "
                             "the page's; 0: back to back)")
    parser.add_argument("--deadline", type=float, default=60.0)
    args = parser.parse_args(argv)
    times, failures = [], []
    start = threading.Barrier(args.clients)
    deadline = time.monotonic() + args.deadline
    threads = [threading.Thread(target=client, args=(args.port, f"/api/run/{args.run}?since=0", args.polls,
                                                     max(0.0, args.interval), deadline, times, failures, start))
               for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.deadline + 15)
    if not times:
        print(f"pollbench: no answer from {HOST}:{args.port} ({len(failures)} failures)", file=sys.stderr)
        return 1
    ms = [t * 1000 for t in times]
    pace = f"every {args.interval:g}s after each answer" if args.interval > 0 else "back to back"
    print(f"pollbench: {args.clients} clients x {args.polls} polls of /api/run/{args.run}?since=0, {pace}: "
          f"{len(ms)} answers, {len(failures)} failures; p50 {statistics.median(ms):.1f} ms, "
          f"p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
