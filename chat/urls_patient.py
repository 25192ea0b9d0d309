"""The client's chat in the patient portal: /patient/messages/ (included from portal/patient_urls.py)."""

from django.urls import path

from . import views_patient

app_name = "chat"
urlpatterns = [
    path("", views_patient.channel_list, name="list"),
    path("unread/", views_patient.unread_count, name="unread"),
    path("<int:channel_id>/", views_patient.channel_page, name="channel"),
    path("<int:channel_id>/updates/", views_patient.updates, name="updates"),
]
