# A selectors loop that forks per connection and answers HTTP/1.0 with a body of its own (no
# Content-Length: the end of the body is the end of the connection). The parent closes its copy and
# reaps whatever has exited each time round the loop.
import os
import selectors
import socket

BODY = b"<p>served by a selectors loop</p>\n"


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def answer(conn):
    conn.recv(4096)
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + BODY)
    conn.close()


def main():
    listener = socket.create_server(("", 8888), backlog=1024, reuse_port=False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    while True:
        for _key, _events in selector.select(timeout=0.2):
            conn, _ = listener.accept()
            if os.fork() == 0:
                selector.close()
                listener.close()
                answer(conn)
                os._exit(0)
            conn.close()
        reap()


if __name__ == "__main__":
    main()
