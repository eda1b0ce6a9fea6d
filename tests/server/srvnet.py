"""Small real clients for the server tests: raw sockets, http.client, curl, and /proc readers."""

import http.client
import os
import socket
import subprocess
import time
from pathlib import Path

CURL = "/usr/bin/curl"


def raw_exchange(port, payload, timeout=5.0, until=None, shut_write=False):
    """Send raw bytes, return what comes back before EOF (or before `until` appears, or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        if payload:
            sock.sendall(payload)
        if shut_write:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server may already have answered and closed
        return read_all(sock, timeout, until)


def read_all(sock, timeout=5.0, until=None):
    data = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        if until is not None and until in data:
            break
    return data


def status_of(response: bytes):
    """The status code of a raw response, or None for no response at all."""
    if not response:
        return None
    return int(response.split(b" ", 2)[1])


def get(port, path="/hello", method="GET", body=None, headers=None, timeout=10.0):
    """One request with http.client: (status, headers dict with lower-case names, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def curl(port, path="/hello", *args, timeout=20):
    return subprocess.run([CURL, "-sS", *args, f"http://127.0.0.1:{port}{path}"],
                          capture_output=True, timeout=timeout)


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def children(pid):
    """[(child pid, state letter)] of the processes whose parent is `pid`, read from /proc/*/stat."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may itself hold spaces or parentheses.
        fields = stat.rpartition(")")[2].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == pid:
            found.append((int(entry.name), state))
    return found


def zombies(pid):
    return [child for child, state in children(pid) if state == "Z"]


def wait_until(predicate, deadline=5.0, interval=0.02):
    """Poll `predicate` until it returns something truthy or the deadline passes; return the last value."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval)


def flood(port, count, request, timeout=20.0, until=None):
    """client3.py's experiment: `count` connections opened at once, each sends a request, then read all."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            socks.append(sock)
            sock.sendall(request)
        return [read_all(sock, timeout, until) for sock in socks]
    finally:
        for sock in socks:
            sock.close()
