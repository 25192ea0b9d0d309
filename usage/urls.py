from django.urls import path

from .views import client_errors

app_name = "usage"
urlpatterns = [
    path("client-errors/", client_errors.report, name="client_errors"),
]
