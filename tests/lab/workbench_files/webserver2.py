# A reader's webserver2.py (part 2): an iterative WSGI server, `python webserver2.py flaskapp:app`.
import io
import socket
import sys


def serve(app):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", 8888))
    listener.listen(5)
    print("WSGIServer: Serving HTTP on port 8888 ...", flush=True)
    while True:
        conn, _ = listener.accept()
        with conn:
            handle(conn, app)


def handle(conn, app):
    request = conn.recv(4096).decode("iso-8859-1")
    method, path, version = request.splitlines()[0].split()
    path, _, query = path.partition("?")
    environ = {
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False, "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "localhost", "SERVER_PORT": "8888", "SERVER_PROTOCOL": version,
    }
    started = []

    def start_response(status, headers, exc_info=None):
        started[:] = [status, headers]

    body = b"".join(app(environ, start_response))
    status, headers = started
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    conn.sendall(head.encode("iso-8859-1") + b"\r\n" + body)


if __name__ == "__main__":
    module, _, name = sys.argv[1].partition(":")
    serve(getattr(__import__(module), name))
