from django.urls import include, path

from . import room_views, views

app_name = "consult"
urlpatterns = [
    path("", views.appointment, name="appointment"),
    path("check/", views.check, name="check"),
    path("disclaimer/", views.accept_disclaimer, name="accept_disclaimer"),
    path("room/", room_views.patient_room, name="room"),
    path("room/ended/", room_views.room_ended, name="room_ended"),
    path("room/files/", room_views.patient_file_upload, name="room_file_upload"),
    path("room/files/<int:file_id>/", room_views.patient_file_download, name="room_file"),
    path("chat/", include("chat.urls_link")),  # before the token: "chat" is no link
    path("<str:token>/", views.link, name="link"),
]
