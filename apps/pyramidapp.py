"""The tutorial's Pyramid application (part 2): `lbaws serve 2 pyramidapp:app`."""

from pyramid.config import Configurator
from pyramid.response import Response

from slowness import pause


def hello_world(request):
    return Response("Hello world from Pyramid!\n", content_type="text/plain")


def slow_hello(request):
    # The lab's own addition: a slow request, for the concurrency experiments.
    pause(request.params.get("seconds"))
    return hello_world(request)


config = Configurator()
config.add_route("hello", "/hello")
config.add_view(hello_world, route_name="hello")
config.add_route("slow", "/slow")
config.add_view(slow_hello, route_name="slow")
app = config.make_wsgi_app()
