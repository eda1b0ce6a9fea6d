# The runtime every lab image shares. The official python image and the home-built Debian base
# (lab/base.py) end up with the same layout: a venv at /opt/venv, ps/ss for the probes, user lbaws.
# Each instruction costs a container commit on the classic builder (seconds on fuse-overlayfs), so they are
# few and combined; the labels come from lab.build in the one LABEL step it adds to every image.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}
# A UID nothing on the host uses: RLIMIT_NPROC counts every process of a UID on the host kernel.
ARG LBAWS_UID=18888
# Only the official slim image lacks procps/iproute2; the home-built base has them and no network.
RUN set -eu; missing=""; \
    command -v ps >/dev/null || missing="$missing procps"; \
    command -v ss >/dev/null || missing="$missing iproute2"; \
    if [ -n "$missing" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $missing && rm -rf /var/lib/apt/lists/*; \
    fi; \
    python3 -m venv /opt/venv; \
    # venv bundles an old setuptools nothing here needs (pyramid brings its own pinned one).
    /opt/venv/bin/pip uninstall --quiet --yes setuptools; \
    groupadd --gid "$LBAWS_UID" lbaws; \
    useradd --uid "$LBAWS_UID" --gid "$LBAWS_UID" --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin lbaws
ENV PATH=/opt/venv/bin:$PATH LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
