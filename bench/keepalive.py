"""Whether a server kept the connection: two requests on one socket, asked before it is measured.

curl fetches the URL twice in one invocation and reuses its connection when the server leaves it open;
%{num_connects} then says 0 for the second transfer. A keep-alive figure means something only for a
server that kept it: one that closes makes wrk reconnect for every request, as in close mode.
"""
from __future__ import annotations

FORMAT = "%{http_code} %{num_connects}\\n"


def command(url: str) -> list[str]:
    return ["curl", "-s", "--max-time", "5", "-o", "/dev/null", "-o", "/dev/null", "-w", FORMAT, url, url]


def parse(output: str) -> bool | None:
    """True: the second request came on the first one's connection; False: on a new one; None: no two 200s."""
    answers = [line.split() for line in output.splitlines() if line.strip()]
    if len(answers) != 2 or any(len(answer) != 2 or answer[0] != "200" for answer in answers):
        return None
    return answers[1][1] == "0"
