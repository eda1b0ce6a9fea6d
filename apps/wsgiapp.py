"""The tutorial's barebones WSGI application: "a starting point for your own Web framework"."""


def app(environ, start_response):
    status = "200 OK"
    response_headers = [("Content-Type", "text/plain")]
    start_response(status, response_headers)
    return [b"Hello world from a simple WSGI application!\n"]
