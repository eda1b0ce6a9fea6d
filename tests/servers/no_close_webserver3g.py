# Reaps like 3g, but keeps the parent's copy of every client socket (a list, so the garbage collector
# cannot close them for it): descriptors leak, and a client never sees the end of its response.
import os
import signal
import socket

RESPONSE = b"HTTP/1.1 200 OK\r\n\r\nHello, World!\n"
kept = []


def reap(signum, frame):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('', 8888))
    listener.listen(1024)
    signal.signal(signal.SIGCHLD, reap)
    while True:
        conn, _ = listener.accept()
        kept.append(conn)
        if os.fork() == 0:
            listener.close()
            conn.recv(1024)
            conn.sendall(RESPONSE)
            conn.close()
            os._exit(0)


if __name__ == '__main__':
    main()
