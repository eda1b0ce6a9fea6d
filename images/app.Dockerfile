# One image per framework: the server image plus the framework (pinned, from the host-built
# wheelhouse) and the tutorial's apps in /app, where `lbaws serve STAGE flaskapp:app` finds them.
# The context's root/ holds /app and, except for the bare WSGI apps, /opt/lbaws-wheels with the
# framework's wheels and a requirements.txt naming its pin.
ARG SERVER=lbaws-lab/server:latest
FROM ${SERVER}
COPY root/ /
RUN if [ -f /opt/lbaws-wheels/requirements.txt ]; then \
        pip install --no-index --no-cache-dir --find-links /opt/lbaws-wheels \
            -r /opt/lbaws-wheels/requirements.txt; \
    fi
USER lbaws
