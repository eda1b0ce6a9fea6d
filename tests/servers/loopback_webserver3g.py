# Binds 127.0.0.1 only: fine on the reader's own machine, unreachable from any other one.
import os
import signal
import socket

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(('127.0.0.1', 8888))
listener.listen(1024)
signal.signal(signal.SIGCHLD, lambda s, f: None)
while True:
    conn, _ = listener.accept()
    conn.recv(1024)
    conn.sendall(b"HTTP/1.1 200 OK\r\n\r\nHello, World!\n")
    conn.close()
