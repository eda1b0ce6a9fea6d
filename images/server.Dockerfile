# The lbaws server on the runtime, installed from the host-built wheel (no network in any step).
# No USER here: the app and client images install more as root, then drop to their own user.
ARG RUNTIME=lbaws-lab/runtime:latest
FROM ${RUNTIME}
COPY wheels /opt/lbaws-wheels
RUN pip install --no-index --no-cache-dir /opt/lbaws-wheels/lbaws-*.whl
WORKDIR /app
