# `lbaws bench`'s servers in one image: lbaws (from the server image), the peers it is measured
# against (gunicorn, waitress, cheroot and the native granian: pinned, from the host-built wheelhouse)
# and a launcher for wsgiref's
# simple_server, on the Flask app image, which holds Flask and every tutorial app in /app.
# The context's root/ holds /opt/lbaws-bench-wheels (wheels and requirements.txt) and /usr/local/bin.
ARG APP=lbaws-lab/app-flask:latest
FROM ${APP}
USER root
COPY root/ /
RUN pip install --no-index --no-cache-dir --find-links /opt/lbaws-bench-wheels \
        -r /opt/lbaws-bench-wheels/requirements.txt \
    && chmod 0755 /usr/local/bin/lbaws-bench-wsgiref
USER lbaws
