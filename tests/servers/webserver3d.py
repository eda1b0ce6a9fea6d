# A reader's webserver3d.py: forks per connection, keeps every client socket, never waits for a child.
import os
import socket

RESPONSE = b"HTTP/1.1 200 OK\r\n\r\nHello, World!"


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('', 8888))
    listener.listen(5)
    print('Serving HTTP on port 8888 ...', flush=True)
    clients = []
    while True:
        conn, address = listener.accept()
        clients.append(conn)  # or the garbage collector closes it on the next loop
        pid = os.fork()
        if pid == 0:
            listener.close()
            print(conn.recv(1024).decode(errors="replace"), flush=True)
            conn.sendall(RESPONSE)
            conn.close()
            os._exit(0)
        print(len(clients), flush=True)  # as the text's does: how many sockets the parent holds


if __name__ == '__main__':
    main()
