# A reader's webserver2.py, in Python 3: an iterative WSGI server that serves MODULE:CALLABLE.
import io
import socket
import sys


class WSGIServer:
    def __init__(self, address):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(address)
        self.listener.listen(1)
        host, self.port = self.listener.getsockname()[:2]
        self.name = socket.getfqdn(host)
        self.app = None
        self.status_and_headers = None

    def serve_forever(self):
        while True:
            conn, _ = self.listener.accept()
            try:
                self.handle(conn)
            finally:
                conn.close()

    def handle(self, conn):
        text = conn.recv(1024).decode("latin-1")
        print(''.join('< {}\n'.format(line) for line in text.splitlines()))
        method, target, _ = (text.splitlines()[0].split() + ['', '', ''])[:3] if text else ('', '', '')
        path, _, query = target.partition('?')
        environ = {
            'wsgi.version': (1, 0), 'wsgi.url_scheme': 'http', 'wsgi.input': io.BytesIO(b''),
            'wsgi.errors': sys.stderr, 'wsgi.multithread': False, 'wsgi.multiprocess': False,
            'wsgi.run_once': False, 'REQUEST_METHOD': method, 'PATH_INFO': path, 'QUERY_STRING': query,
            'SERVER_NAME': self.name, 'SERVER_PORT': str(self.port),
        }
        body = b''.join(self.app(environ, self.start_response))
        conn.sendall(self.head() + body)

    def start_response(self, status, headers, exc_info=None):
        self.status_and_headers = (status, headers + [('Server', 'ReadersWSGI 0.1')])
        return lambda data: None

    def head(self):
        status, headers = self.status_and_headers
        lines = ['HTTP/1.1 {}'.format(status)] + ['{}: {}'.format(k, v) for k, v in headers]
        return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit('Provide a WSGI application object as module:callable')
    module_name, callable_name = sys.argv[1].split(':')
    server = WSGIServer(('', 8888))
    server.app = getattr(__import__(module_name), callable_name)
    print('WSGIServer: Serving HTTP on port 8888 ...\n', flush=True)
    server.serve_forever()
