# A reader's webserver3g.py, written the way the text teaches: fork per connection, the parent closes
# its copy, and the SIGCHLD handler reaps every finished child with waitpid(-1, WNOHANG) in a loop.
import errno
import os
import signal
import socket

HOST, PORT = '', 8888
QUEUE = 1024
RESPONSE = b"HTTP/1.1 200 OK\r\n\r\nHello, World!\n"


def reap(signum, frame):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except OSError:
            return
        if pid == 0:
            return


def serve(conn):
    request = conn.recv(1024)
    print(request.decode(errors="replace"))
    conn.sendall(RESPONSE)


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, PORT))
    listener.listen(QUEUE)
    print('Serving HTTP on port {} ...'.format(PORT), flush=True)
    signal.signal(signal.SIGCHLD, reap)
    while True:
        try:
            conn, address = listener.accept()
        except IOError as e:
            if e.errno == errno.EINTR:
                continue
            raise
        pid = os.fork()
        if pid == 0:
            listener.close()
            serve(conn)
            conn.close()
            os._exit(0)
        conn.close()


if __name__ == '__main__':
    main()
