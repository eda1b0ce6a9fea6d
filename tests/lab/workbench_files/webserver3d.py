# A reader's webserver3d.py, as part 3 has them write it: a child per connection, and the parent
# keeps every client socket and never waits for a child. Leaks descriptors, leaves zombies.
import os
import socket

ADDRESS = ("", 8888)
RESPONSE = b"HTTP/1.1 200 OK\r\n\r\nHello, World!\n"


def serve():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(ADDRESS)
    listener.listen(5)
    print("Serving HTTP on port 8888 ...", flush=True)
    kept = []  # the parent's copy of each client socket, never closed
    while True:
        conn, _ = listener.accept()
        kept.append(conn)
        if os.fork() == 0:
            listener.close()
            conn.recv(1024)
            conn.sendall(RESPONSE)
            conn.close()
            os._exit(0)
        print(len(kept), flush=True)


serve()
