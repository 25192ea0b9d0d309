"""The patient portal, on /patient/ of the organisation's host (F-PORTAL). Patients have no accounts."""

from django.urls import path

from .views import patient

app_name = "patient"
urlpatterns = [
    path("", patient.home, name="home"),
    path("start/<str:value>/", patient.start, name="start"),
]
