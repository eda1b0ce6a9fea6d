# Ported from Python 2 only halfway: it compiles under Python 3, and dies at its first import.
import StringIO
import socket

buffer = StringIO.StringIO()
listener = socket.socket()
listener.bind(('', 8888))
listener.listen(5)
