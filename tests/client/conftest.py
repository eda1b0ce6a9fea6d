import pytest

from clienthelp import LoopbackServer


@pytest.fixture
def loopback():
    """Factory of LoopbackServers, every one closed after the test."""
    servers = []

    def start(mode="answer", backlog=1024, close_after=None):
        server = LoopbackServer(mode, backlog, close_after).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)
