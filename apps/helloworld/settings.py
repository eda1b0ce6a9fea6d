"""Settings of the tutorial's `helloworld` Django project, trimmed to what /hello needs: no database."""

import os

# A fixed development key: this project only says hello in a local lab, it signs nothing worth stealing.
SECRET_KEY = "lbaws-lab-development-only-not-a-secret"

DEBUG = False

# Django answers 400 to a Host it does not know; the lab reaches the servers by these names.
ALLOWED_HOSTS = [
    "localhost", "127.0.0.1", "[::1]",
    "server", "server-flask", "server-pyramid", "server-django", "server-wsgi",
] + [host.strip() for host in os.environ.get("LBAWS_ALLOWED_HOSTS", "").split(",") if host.strip()]

INSTALLED_APPS = []
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "helloworld.urls"
WSGI_APPLICATION = "helloworld.wsgi.application"
DATABASES = {}
USE_TZ = True
