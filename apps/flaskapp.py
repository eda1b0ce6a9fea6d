"""The tutorial's Flask application (part 2): `lbaws serve 2 flaskapp:app`."""

from flask import Flask, Response

flask_app = Flask("flaskapp")


@flask_app.route("/hello")
def hello_world():
    return Response("Hello world from Flask!\n", mimetype="text/plain")


app = flask_app.wsgi_app
