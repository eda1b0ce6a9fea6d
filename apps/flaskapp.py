"""The tutorial's Flask application (part 2): `lbaws serve 2 flaskapp:app`."""

from flask import Flask, Response, request

from slowness import pause

flask_app = Flask("flaskapp")


@flask_app.route("/hello")
def hello_world():
    return Response("Hello world from Flask!\n", mimetype="text/plain")


@flask_app.route("/slow")
def slow_hello():
    # The lab's own addition: a slow request, for the concurrency experiments.
    pause(request.args.get("seconds"))
    return hello_world()


app = flask_app.wsgi_app
