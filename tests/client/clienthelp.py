"""Test tools for lbaws-client: a loopback server that counts, and process helpers."""

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time

HELLO = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, World!"


class LoopbackServer:
    """A real TCP server on 127.0.0.1 that records what the client does.

    mode "answer": read the request, answer HELLO and close (the text's servers);
    "silent": accept and never answer; "answer-open": answer but never close
    (3d's leaked socket); "reset": close every connection with an RST at once.
    Connections count as open from accept() until the server sees the client close.
    close_after=N closes the listening socket after the Nth accept, so every later
    connect is refused, as when 3d has died.
    """

    def __init__(self, mode="answer", backlog=1024, close_after=None):
        self.mode = mode
        self.close_after = close_after
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d/hello" % self.port
        self.requests = []
        self.accepted = 0
        self.accept_times = []
        self.open_spans = []      # (accepted, closed) per finished connection
        self.max_open = 0
        self._open = {}           # socket -> [accepted at, request bytes]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        for conn in list(self._open):
            conn.close()
        self.sock.close()

    @property
    def open_now(self):
        with self._lock:
            return len(self._open)

    def _serve(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        while not self._stop.is_set():
            for key, _ in sel.select(0.05):
                if key.fileobj is self.sock:
                    self._accept(sel)
                else:
                    self._readable(sel, key.fileobj)
        sel.close()

    def _accept(self, sel):
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return
            now = time.monotonic()
            with self._lock:
                self.accepted += 1
                self.accept_times.append(now)
                if self.mode == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    conn.close()
                    self.open_spans.append((now, now))
                    continue
                self._open[conn] = [now, b""]
                self.max_open = max(self.max_open, len(self._open))
            conn.setblocking(False)
            sel.register(conn, selectors.EVENT_READ)
            if self.accepted == self.close_after:
                # Unaccepted connections in the queue are reset with it: the next connect is refused.
                sel.unregister(self.sock)
                self.sock.close()
                return

    def _readable(self, sel, conn):
        try:
            data = conn.recv(65536)
        except ConnectionError:
            data = b""
        with self._lock:
            state = self._open[conn]
            if not data:
                self._finish(sel, conn, state)
                return
            before = state[1]
            state[1] += data
            head_done = b"\n\n" in state[1] or b"\r\n\r\n" in state[1]
            if head_done and not (b"\n\n" in before or b"\r\n\r\n" in before):
                self.requests.append(state[1])
                if self.mode in ("answer", "answer-open"):
                    conn.sendall(HELLO)
                if self.mode == "answer":
                    self._finish(sel, conn, state)

    def _finish(self, sel, conn, state):
        sel.unregister(conn)
        conn.close()
        del self._open[conn]
        self.open_spans.append((state[0], time.monotonic()))


def client_cmd(*args):
    return [sys.executable, "-m", "lbaws.client", *map(str, args)]


def run_client(*args, timeout=30):
    """Run lbaws-client to the end; (exit code, summary dict or None, stderr)."""
    proc = subprocess.run(client_cmd(*args), capture_output=True, text=True, timeout=timeout)
    summary = json.loads(proc.stdout) if "--json" in map(str, args) and proc.stdout.strip() else None
    return proc.returncode, summary, proc.stderr


def children_of(pid):
    """{child pid: start time} of the live processes whose parent is pid, read from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue  # gone while we looked
        if int(fields[1]) == pid:
            found[int(entry)] = fields[19]
    return found


def still_alive(procs):
    """The pids of procs ({pid: start time}) that still exist as the same process."""
    alive = []
    for pid, start in procs.items():
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rpartition(")")[2].split()[19] == start:
                    alive.append(pid)
        except OSError:
            pass
    return alive


def wait_for(predicate, timeout, interval=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class BackgroundClient:
    """lbaws-client in the background, always stopped and reaped on exit."""

    def __init__(self, *args):
        self.args = args

    def __enter__(self):
        self.proc = subprocess.Popen(client_cmd(*self.args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        return self

    def finish(self, timeout=20):
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            kids = children_of(self.proc.pid)
            self.proc.kill()
            self.proc.communicate()
            for pid in still_alive(kids):
                os.kill(pid, signal.SIGKILL)


class StageServer:
    """`lbaws serve STAGE` on 127.0.0.1 with a port picked by the kernel.

    Its log goes to a file (a full pipe would block the server); on exit the
    server gets SIGTERM, and anything it forked that is still alive, SIGKILL.
    """

    def __init__(self, stage, *args, cwd=None, log_path):
        self.cmd = [sys.executable, "-m", "lbaws", "serve", stage, *map(str, args),
                    "--host", "127.0.0.1", "--port", "0"]
        self.cwd = cwd
        self.log_path = log_path
        self.port = None

    def __enter__(self):
        self._log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            if not wait_for(self._started, 15, 0.05):
                raise RuntimeError("the server did not start:\n" + self.log())
        except BaseException:
            self.__exit__()
            raise
        self.url = "http://127.0.0.1:%d/hello" % self.port
        return self

    def _started(self):
        if self.proc.poll() is not None:
            raise RuntimeError("the server exited with %s:\n%s" % (self.proc.returncode, self.log()))
        for line in self.log().splitlines():
            if "Serving HTTP on port " in line:
                self.port = int(line.split("Serving HTTP on port ")[1].split()[0])
                return True
        return False

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def __exit__(self, *exc):
        kids = children_of(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in still_alive(kids):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()
