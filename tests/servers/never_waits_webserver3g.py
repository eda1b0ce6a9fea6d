# Closes the parent's copy as 3g does, but never waits for a child: each one stays a zombie.
import os
import socket

RESPONSE = b"HTTP/1.1 200 OK\r\n\r\nHello, World!\n"

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("", 8888))
listener.listen(1024)
while True:
    conn, _ = listener.accept()
    if os.fork() == 0:
        listener.close()
        conn.recv(1024)
        conn.sendall(RESPONSE)
        conn.close()
        os._exit(0)
    conn.close()
