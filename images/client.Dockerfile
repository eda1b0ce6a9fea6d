# The client container: curl, netcat and lbaws-client, idle until a test or scenario execs into it.
ARG SERVER=lbaws-lab/server:latest
FROM ${SERVER}
# Its own UID, so the load client's forks never count against the servers' RLIMIT_NPROC.
ARG CLIENT_UID=18889
# Only the official slim image lacks curl/nc; the home-built base has them and no network.
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
