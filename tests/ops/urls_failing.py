"""The project's URLs plus one view that logs and fails, for tests/ops/test_logging.py."""

import logging

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def fails(request):
    logging.getLogger("portal").warning("something in the view")
    raise RuntimeError("boom")


urlpatterns = [path("fails/", fails), *project_urlpatterns]
