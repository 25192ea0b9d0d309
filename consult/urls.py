from django.urls import path

from . import views

app_name = "consult"
urlpatterns = [
    path("", views.appointment, name="appointment"),
    path("check/", views.check, name="check"),
    path("<str:token>/", views.link, name="link"),
]
