"""The tutorial's barebones WSGI application: "a starting point for your own Web framework"."""

from urllib.parse import parse_qs

from slowness import pause


def app(environ, start_response):
    # The lab's own addition: /slow answers the same after a pause, for the concurrency experiments.
    if environ.get("PATH_INFO") == "/slow":
        pause(parse_qs(environ.get("QUERY_STRING", "")).get("seconds", [None])[0])
    status = "200 OK"
    response_headers = [("Content-Type", "text/plain")]
    start_response(status, response_headers)
    return [b"Hello world from a simple WSGI application!\n"]
