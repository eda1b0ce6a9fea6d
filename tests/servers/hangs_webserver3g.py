# Accepts every client and never answers any: each one waits until its own deadline.
import os
import socket

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(('', 8888))
listener.listen(1024)
held = []
while True:
    conn, _ = listener.accept()
    held.append(conn)
