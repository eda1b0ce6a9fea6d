"""What the lab tests share: the services and their texts, free ports, a project's environment."""
import os
import socket

from lab.inventory import APPS, SERVER_UID

# Service suffix (an App's role) -> the text its /hello answers (apps/).
TEXTS = {app.role: app.greeting for app in APPS}
# Limits unlike the defaults and unlike each other, so a probe cannot pass by accident.
NOFILE = 1111
NPROC = 333
UID = SERVER_UID
STAGE = "3h"


def free_ports(count):
    """Ports the kernel has just handed out, so they are free at least for a moment."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def project_env(**overrides):
    """The host environment without any LBAWS_ setting the user may have, plus ours."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LBAWS_")}
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def port_env(ports):
    return {f"LBAWS_{name.upper()}_PORT": port for name, port in ports.items()}


def read_limits(text):
    """{'nofile': (soft, hard), 'nproc': (soft, hard)} from the text of /proc/<pid>/limits."""
    names = {"Max open files": "nofile", "Max processes": "nproc"}
    found = {}
    for line in text.splitlines():
        for title, key in names.items():
            if line.startswith(title):
                soft, hard = line[len(title):].split()[:2]
                found[key] = (int(soft), int(hard))
    return found
