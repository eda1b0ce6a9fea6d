"""A learner's server with a fixed pool: four children forked before any client, each accepting on the
one listening socket in turn, the parent only waiting for them."""
import os
import socket

SERVER_ADDRESS = (HOST, PORT) = '', 8888
WORKERS = 4


def handle_request(client_connection):
    client_connection.recv(1024)
    client_connection.sendall(b"HTTP/1.1 200 OK\r\n\r\nHello, World!\n")
    client_connection.close()


def work(listen_socket):
    while True:
        client_connection, client_address = listen_socket.accept()
        handle_request(client_connection)


def serve_forever():
    listen_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listen_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listen_socket.bind(SERVER_ADDRESS)
    listen_socket.listen(1024)
    print('Serving HTTP on port {port} with {n} workers ...'.format(port=PORT, n=WORKERS), flush=True)
    for _ in range(WORKERS):
        if os.fork() == 0:
            work(listen_socket)
    listen_socket.close()
    while True:
        os.wait()


if __name__ == '__main__':
    serve_forever()
