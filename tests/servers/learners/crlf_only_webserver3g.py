"""A learner's 3g that reads the request head until b"\\r\\n\\r\\n": the text's own request, whose lines
end with a bare LF, never ends for it."""
import errno
import os
import signal
import socket

SERVER_ADDRESS = (HOST, PORT) = '', 8888


def grim_reaper(signum, frame):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except OSError:
            return
        if pid == 0:
            return


def handle_request(client_connection):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = client_connection.recv(1024)
        if not chunk:
            return
        head += chunk
    client_connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nHello, World!\n")


def serve_forever():
    listen_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listen_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listen_socket.bind(SERVER_ADDRESS)
    listen_socket.listen(1024)
    print('Serving HTTP on port {port} ...'.format(port=PORT), flush=True)
    signal.signal(signal.SIGCHLD, grim_reaper)
    while True:
        try:
            client_connection, client_address = listen_socket.accept()
        except IOError as e:
            if e.args[0] == errno.EINTR:
                continue
            raise
        pid = os.fork()
        if pid == 0:
            listen_socket.close()
            handle_request(client_connection)
            client_connection.close()
            os._exit(0)
        else:
            client_connection.close()


if __name__ == '__main__':
    serve_forever()
