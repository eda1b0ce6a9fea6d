# os.fork() straight in the loop, with a Content-Length so curl can finish without the FIN; but the
# parent keeps every client socket it accepted (the list keeps the garbage collector away): 3d's fault.
import os
import signal
import socket

BODY = b"hi there\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps: no zombies, the copies are the lesson

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("", 8888))
listener.listen(128)
held = []
while True:
    conn, _ = listener.accept()
    held.append(conn)
    if os.fork() == 0:
        conn.recv(1024)
        conn.sendall(RESPONSE)
        conn.close()
        os._exit(0)
