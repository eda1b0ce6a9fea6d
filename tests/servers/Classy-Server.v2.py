# A forking server written as a class, as a reader might after part 3: its own greeting, with a
# Content-Length, the parent's copy closed after fork() and every child reaped in a loop.
import errno
import os
import signal
import socket


class GreetingServer:
    greeting = b"Greetings from a class of my own\n"

    def __init__(self, port):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("", port))
        self.listener.listen(1024)

    def response(self):
        head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n"
        return head.format(len(self.greeting)).encode() + self.greeting

    @staticmethod
    def reap(signum, frame):
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def handle(self, conn):
        conn.recv(1024)
        conn.sendall(self.response())
        conn.close()

    def serve_forever(self):
        signal.signal(signal.SIGCHLD, self.reap)
        while True:
            try:
                conn, _ = self.listener.accept()
            except InterruptedError:
                continue
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise
            if os.fork() == 0:
                self.listener.close()
                self.handle(conn)
                os._exit(0)
            conn.close()


if __name__ == "__main__":
    print("GreetingServer on 8888", flush=True)
    GreetingServer(8888).serve_forever()
