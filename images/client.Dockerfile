# The client container: curl, netcat, lbaws-client and wrk, idle until a test, scenario or bench execs into it.
# The context's debs/ holds wrk and the LuaJIT it links, downloaded on the host (lab/debs.py); wheels/ the
# lbaws wheel for lbaws-client. On the runtime, not the server image, so the two build side by side.
ARG RUNTIME=lbaws-lab/runtime:latest
FROM ${RUNTIME}
# Its own UID, so the load client's forks never count against the servers' RLIMIT_NPROC.
ARG CLIENT_UID=18889
COPY debs wheels /opt/lbaws-client-files/
# Only the official slim image lacks curl/nc; the home-built base has them and no network.
RUN set -eu; missing=""; \
    command -v curl >/dev/null || missing="$missing curl"; \
    command -v nc >/dev/null || missing="$missing netcat-openbsd"; \
    if [ -n "$missing" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $missing && rm -rf /var/lib/apt/lists/*; \
    fi; \
    pip install --no-index --no-cache-dir /opt/lbaws-client-files/lbaws-*.whl; \
    dpkg -i /opt/lbaws-client-files/*.deb; \
    rm -rf /opt/lbaws-client-files; \
    wrk --version | grep -q '^wrk '; \
    groupadd --gid "$CLIENT_UID" lbaws-client; \
    useradd --uid "$CLIENT_UID" --gid "$CLIENT_UID" --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin lbaws-client
USER lbaws-client
CMD ["sleep", "infinity"]
