# Forks per client, closes the parent's copy, and then waits for that child right away: no zombie
# ever, but the parent is in waitpid() instead of accept() while the child serves, one client at a time.
import os
import socket

RESPONSE = b"HTTP/1.1 200 OK\r\n\r\nHello, World!\n"

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("", 8888))
listener.listen(1024)
while True:
    conn, _ = listener.accept()
    pid = os.fork()
    if pid == 0:
        listener.close()
        conn.recv(1024)
        conn.sendall(RESPONSE)
        conn.close()
        os._exit(0)
    conn.close()
    os.waitpid(pid, 0)
