"""The target: an http:// URL turned into a socket address and the text's request."""

import socket
import urllib.parse
from dataclasses import dataclass


class TargetError(ValueError):
    """A URL the client cannot use; the message is one line for the user."""


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    family: int
    sockaddr: tuple
    request: bytes


def build_request(path, host_header):
    # client3.py's request, byte for byte: bare "\n" line ends and no other
    # header. That the servers accept it is part of the lesson.
    return ("GET %s HTTP/1.1\nHost: %s\n\n" % (path, host_header)).encode("ascii")


def parse_url(url):
    """Split an http:// URL into (host, port, path-with-query)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http":
        raise TargetError("only http:// URLs are supported: %r" % url)
    try:
        port = parts.port or 80
    except ValueError:
        raise TargetError("bad port in URL: %r" % url) from None
    if not parts.hostname:
        raise TargetError("no host in URL: %r" % url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if any(c.isspace() for c in path) or not path.isascii():
        raise TargetError("the path must be ASCII without spaces: %r" % url)
    return parts.hostname, port, path


def resolve(url):
    """Parse and resolve once, in the parent, so a bad host fails before any fork."""
    host, port, path = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetError("cannot resolve host %r: %s" % (host, exc.strerror)) from None
    # The servers bind '' (IPv4 only, as the text), while "localhost" often
    # resolves to ::1 first; client3.py itself is AF_INET, so prefer IPv4.
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, _, _, _, sockaddr = infos[0]
    host_header = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    return Target(url, host, port, family, sockaddr, build_request(path, host_header))
