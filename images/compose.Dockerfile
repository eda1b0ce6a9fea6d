# What `docker compose build` makes on a machine with a registry: the lab's images from the repository
# alone (context: its root, trimmed by .dockerignore), on the official python image, pip from PyPI.
# The offline path (`make images`, lab.images) builds the same tags from runtime/server/app/client/
# workbench.Dockerfile and a host-built wheelhouse; compose.yaml's `pull_policy: never` makes compose
# use those when they exist and build from here only when they do not. tests/lab builds this file and
# compares what it installs with the offline images.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE} AS runtime
ARG LBAWS_UID=18888
# As runtime.Dockerfile: a venv at /opt/venv, ps/ss for the probes and healthcheck, user lbaws.
RUN set -eu; missing=""; \
    command -v ps >/dev/null || missing="$missing procps"; \
    command -v ss >/dev/null || missing="$missing iproute2"; \
    if [ -n "$missing" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $missing && rm -rf /var/lib/apt/lists/*; \
    fi; \
    python3 -m venv /opt/venv; \
    /opt/venv/bin/pip uninstall --quiet --yes setuptools; \
    groupadd --gid "$LBAWS_UID" lbaws; \
    useradd --uid "$LBAWS_UID" --gid "$LBAWS_UID" --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin lbaws
ENV PATH=/opt/venv/bin:$PATH LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
LABEL org.lbaws-lab.project=lbaws-lab
# The server distribution alone, as the offline images carry it; the pins are the offline images' too.
COPY images/constraints.txt /opt/lbaws-src/constraints.txt
COPY server /opt/lbaws-src/server
RUN pip install --no-cache-dir --constraint /opt/lbaws-src/constraints.txt /opt/lbaws-src/server \
    && rm -rf /opt/lbaws-src/server
WORKDIR /app

# A server image: the runtime, one framework (FRAMEWORK, pinned by constraints.txt; empty for the
# bare WSGI app) and the tutorial's apps in /app.
FROM runtime AS app
ARG FRAMEWORK=
RUN if [ -n "$FRAMEWORK" ]; then \
        pip install --no-cache-dir --constraint /opt/lbaws-src/constraints.txt "$FRAMEWORK"; \
    fi
COPY apps /app
USER lbaws

# As client.Dockerfile: curl, netcat and lbaws-client under a UID of its own.
FROM runtime AS client
ARG CLIENT_UID=18889
RUN set -eu; missing=""; \
    command -v curl >/dev/null || missing="$missing curl"; \
    command -v nc >/dev/null || missing="$missing netcat-openbsd"; \
    if [ -n "$missing" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $missing && rm -rf /var/lib/apt/lists/*; \
    fi; \
    groupadd --gid "$CLIENT_UID" lbaws-client; \
    useradd --uid "$CLIENT_UID" --gid "$CLIENT_UID" --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin lbaws-client
USER lbaws-client
CMD ["sleep", "infinity"]

# As workbench.Dockerfile, on the app stage built with FRAMEWORK=flask.
FROM app AS workbench
USER root
ARG WORKBENCH_UID=18890
COPY images/workbench/client3.py /usr/local/bin/client3.py
RUN set -eu; \
    command -v curl >/dev/null || { apt-get update && apt-get install -y --no-install-recommends curl \
        && rm -rf /var/lib/apt/lists/*; }; \
    chmod 0755 /usr/local/bin/client3.py; \
    mkdir -p /workbench/my; \
    ln -s /usr/local/bin/client3.py /workbench/client3.py; \
    for name in webserver1 webserver2 webserver3a webserver3b webserver3c webserver3d webserver3e \
                webserver3f webserver3g webserver3h; do \
        ln -s "my/$name.py" "/workbench/$name.py"; \
    done; \
    groupadd --gid "$WORKBENCH_UID" lbaws-workbench; \
    useradd --uid "$WORKBENCH_UID" --gid "$WORKBENCH_UID" --no-create-home --home-dir /tmp \
        --shell /bin/bash lbaws-workbench
ENV PYTHONPATH=/app HOME=/tmp
WORKDIR /workbench
USER lbaws-workbench
CMD ["bash"]
