from django.http import HttpResponse

from slowness import pause


def hello_world(request):
    return HttpResponse("Hello world from Django!\n", content_type="text/plain")


def slow_hello(request):
    # The lab's own addition: a slow request, for the concurrency experiments.
    pause(request.GET.get("seconds"))
    return hello_world(request)
