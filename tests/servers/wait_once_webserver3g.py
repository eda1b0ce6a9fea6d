# Looks like 3g, but its SIGCHLD handler reaps one child per signal with os.wait(), as 3e/3f do:
# signals that arrive together coalesce, and the children they stood for stay zombies.
import errno
import os
import signal
import socket

RESPONSE = b"HTTP/1.1 200 OK\r\n\r\nHello, World!\n"


def reap_one(signum, frame):
    os.wait()


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('', 8888))
    listener.listen(1024)
    print('Serving HTTP on port 8888 ...', flush=True)
    signal.signal(signal.SIGCHLD, reap_one)
    while True:
        try:
            conn, _ = listener.accept()
        except IOError as e:
            if e.errno == errno.EINTR:
                continue
            raise
        if os.fork() == 0:
            listener.close()
            conn.recv(1024)
            conn.sendall(RESPONSE)
            conn.close()
            os._exit(0)
        conn.close()


if __name__ == '__main__':
    main()
