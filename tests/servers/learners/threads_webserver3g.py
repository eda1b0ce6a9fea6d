"""A learner's server with a thread per connection instead of a child."""
import socket
import threading

SERVER_ADDRESS = (HOST, PORT) = '', 8888


def handle_request(client_connection):
    with client_connection:
        client_connection.recv(1024)
        client_connection.sendall(b"HTTP/1.1 200 OK\r\n\r\nHello, World!\n")


def serve_forever():
    listen_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listen_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listen_socket.bind(SERVER_ADDRESS)
    listen_socket.listen(1024)
    print('Serving HTTP on port {port} ...'.format(port=PORT), flush=True)
    while True:
        client_connection, client_address = listen_socket.accept()
        threading.Thread(target=handle_request, args=(client_connection,), daemon=True).start()


if __name__ == '__main__':
    serve_forever()
