#!/usr/bin/env python3
"""The text's test client of part 3, for the workbench: `python client3.py --max-clients=300`.

Forks --max-clients clients; each opens --max-conns connections to localhost:8888 in turn, sends
`GET /hello HTTP/1.1` on each, holds them all, then exits. A client whose connect fails stops there.
Unlike the text's, it is bounded, waits for its clients and ends with one summary line.
"""
import argparse
import collections
import gc
import os
import select
import signal
import socket
import sys
import time

SERVER = ("localhost", 8888)
REQUEST = b"GET /hello HTTP/1.1\r\nHost: localhost:8888\r\n\r\n"
# The text's defaults against a server that survives would open 300 x 1024 connections; one that
# never accepts would keep every client in connect() through minutes of SYN retries.
MAX_TOTAL = 10000
TIME_LIMIT = 30


def parse(argv):
    parser = argparse.ArgumentParser(
        prog="client3.py",
        description="Test client for LSBAWS (the lab's client3.py).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog=f"The lab's bounds: at most {MAX_TOTAL} connections in all (each client opens at most "
               f"{MAX_TOTAL} / --max-clients of them), and clients still running after {TIME_LIMIT} s "
               f"are killed.")
    parser.add_argument("--max-conns", type=int, default=1024, help="Maximum number of connections per client.")
    parser.add_argument("--max-clients", type=int, default=1, help="Maximum number of clients.")
    args = parser.parse_args(argv)
    if not 1 <= args.max_clients <= MAX_TOTAL or args.max_conns < 1:
        parser.error(f"--max-clients must be 1..{MAX_TOTAL} and --max-conns at least 1")
    return args


def run_client(address, count, report_fd):
    """One client: connect, send, hold; report how far it got on the pipe, then exit."""
    # Ctrl-C reaches the whole process group: the parent reports, the clients just go.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    held, opened, stopped = [], 0, "-"
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(sock)
            sock.connect(address)
            sock.sendall(REQUEST)
            opened += 1
    except OSError as exc:
        stopped = describe(exc)
    # One write under PIPE_BUF: the kernel keeps the clients' lines whole.
    os.write(report_fd, f"{opened} {stopped}\n".encode())
    os._exit(0)


def describe(exc):
    return f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)


def collect(read_fd, deadline):
    """The clients' report lines, until all have exited (EOF) or the deadline passes."""
    data = b""
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([read_fd], [], [], left)
        if not ready:
            break
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        data += chunk
    return data.decode().splitlines()


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    per_client = min(args.max_conns, MAX_TOTAL // args.max_clients)
    # Resolved once: a lookup per connection would read /etc/hosts, one more descriptor each time.
    address = socket.getaddrinfo(*SERVER, socket.AF_INET, socket.SOCK_STREAM)[0][4]
    started = time.monotonic()
    read_fd, write_fd = os.pipe()
    # Objects frozen out of the collector's reach stay shared with hundreds of forked clients.
    gc.freeze()
    children, fork_error, lines, interrupted = [], None, [], False
    try:
        for _ in range(args.max_clients):
            try:
                pid = os.fork()
            except OSError as exc:
                fork_error = describe(exc)
                break
            if pid == 0:
                try:
                    os.close(read_fd)
                    run_client(address, per_client, write_fd)
                finally:
                    os._exit(0)  # a client never runs the parent's code, whatever it raised
            children.append(pid)
        os.close(write_fd)
        lines = collect(read_fd, started + TIME_LIMIT)
    except KeyboardInterrupt:
        interrupted = True
    late = stop(children)
    summary(args, per_client, len(children), fork_error, lines, late, time.monotonic() - started, interrupted)
    return 130 if interrupted else 0


def stop(children):
    """Kill the clients still running (the time limit struck) and reap every one; how many were late."""
    late = 0
    for pid in children:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                late += 1
        except ChildProcessError:
            pass
    return late


def summary(args, per_client, forked, fork_error, lines, late, elapsed, interrupted):
    if fork_error:
        print(f"client3: fork() failed after {forked} of {args.max_clients} clients: {fork_error}")
    opened = sum(int(line.split(" ", 1)[0]) for line in lines)
    stops = collections.Counter(line.split(" ", 1)[1] for line in lines)
    stops.pop("-", None)
    print(f"client3: {forked} clients, {opened} connections in {elapsed:.1f} s "
          f"({per_client} per client at most)" + (", interrupted" if interrupted else ""))
    if stops:
        print("client3: clients stopped early by: " + "; ".join(f"{why} ({n})" for why, n in stops.most_common()))
    if late and not interrupted:
        print(f"client3: {late} clients still running at the {TIME_LIMIT} s limit were killed")


if __name__ == "__main__":
    sys.exit(main())
