"""A diagnostic WSGI app: answers with JSON describing the request it received, for tests and scenarios."""

import json
import os


def _headers(environ):
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[len("HTTP_"):]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        headers[name.replace("_", "-").title()] = value
    return headers


def app(environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    reply = {
        "method": environ["REQUEST_METHOD"],
        "path": environ.get("PATH_INFO", ""),
        "query": environ.get("QUERY_STRING", ""),
        "headers": _headers(environ),
        "body": body.decode("utf-8", "replace"),
        "body_length": len(body),
        "pid": os.getpid(),
        "remote_addr": environ.get("REMOTE_ADDR", ""),
        "server": {key: environ.get(key) for key in ("SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL")},
        "wsgi": {key: environ[f"wsgi.{key}"] for key in ("multithread", "multiprocess", "run_once", "url_scheme")},
    }
    data = (json.dumps(reply, indent=2, sort_keys=True) + "\n").encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
