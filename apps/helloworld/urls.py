from django.urls import path

from helloworld import views

urlpatterns = [path("hello", views.hello_world), path("slow", views.slow_hello)]
