"""The product's URLs plus /bench/204/: a view with no session, no database and no template, so
its time is what gunicorn, the middleware and Django's request handling cost on their own."""

from django.http import HttpResponse
from django.urls import path

from outreach_site.urls import urlpatterns as product_urlpatterns


def bare_204(request):
    return HttpResponse(status=204)


urlpatterns = [path("bench/204/", bare_204, name="bench_204"), *product_urlpatterns]
