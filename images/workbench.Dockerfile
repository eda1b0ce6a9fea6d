# The workbench: one machine where the reader types the text's part 3 commands as written
# (`python webserver3d.py &`, `python client3.py --max-clients=300`, curl, ps, ulimit, kill).
# Built on the Flask app image: its Python 3 (`python`, `python3`), lbaws and Flask, and the
# tutorial's apps in /app on PYTHONPATH, so `python webserver2.py flaskapp:app` imports its app too.
# The context's root/ holds /usr/local/bin/client3.py, the lab's client3-compatible client.
ARG APP=lbaws-lab/app-flask:latest
FROM ${APP}
USER root
# Its own UID: RLIMIT_NPROC counts every process of a UID on the host kernel, so the reader's
# `ulimit -u 400` must count the workbench's processes alone, not the servers' or the client's.
ARG WORKBENCH_UID=18890
COPY root/ /
# /workbench is the shell's working directory, so `python client3.py` finds the lab's client there.
# The reader's folder is mounted read-only at /workbench/my; each file name of the text is a link
# into it, so `python webserver3d.py` runs the reader's own file as written. Any other file: my/NAME.
# The rest of /workbench belongs to root: the reader's work cannot land outside their folder.
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
