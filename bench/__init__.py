"""`lbaws bench`: lbaws measured against gunicorn, waitress and wsgiref with wrk, side by side."""
