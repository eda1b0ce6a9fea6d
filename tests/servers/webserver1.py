# A reader's webserver1.py in Python 3: answers every connection the same, whatever it was sent.
import socket

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(('', 8888))
listener.listen(1)
print('Serving HTTP on port 8888 ...', flush=True)
while True:
    conn, _ = listener.accept()
    print(conn.recv(1024).decode(errors='replace'), flush=True)
    conn.sendall(b"HTTP/1.1 200 OK\r\n\r\nHello, World!")
    conn.close()
