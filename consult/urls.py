from django.urls import path

from . import views

app_name = "consult"
urlpatterns = [
    path("", views.appointment, name="appointment"),
    path("<str:token>/", views.link, name="link"),
]
