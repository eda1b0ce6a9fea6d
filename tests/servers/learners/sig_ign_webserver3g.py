"""A learner's 3g that sets SIGCHLD to SIG_IGN instead of reaping: the kernel reaps the children."""
import os
import signal
import socket

SERVER_ADDRESS = (HOST, PORT) = '', 8888


def serve_forever():
    listen_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listen_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listen_socket.bind(SERVER_ADDRESS)
    listen_socket.listen(1024)
    print('Serving HTTP on port {port} ...'.format(port=PORT), flush=True)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        client_connection, client_address = listen_socket.accept()
        pid = os.fork()
        if pid == 0:
            listen_socket.close()
            client_connection.recv(1024)
            client_connection.sendall(b"HTTP/1.1 200 OK\r\n\r\nHello, World!\n")
            client_connection.close()
            os._exit(0)
        client_connection.close()


if __name__ == '__main__':
    serve_forever()
