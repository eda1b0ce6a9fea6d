# Listens, but on 8080 rather than the text's 8888.
import socket

listener = socket.socket()
listener.bind(('', 8080))
listener.listen(5)
print('Serving HTTP on port 8080 ...', flush=True)
while True:
    conn, _ = listener.accept()
    conn.close()
