"""Staff chat pages; included by portal/urls.py under messages/ (names: portal:message*)."""

from django.urls import path

from . import views_staff

urlpatterns = [
    path("", views_staff.message_list, name="messages"),
    path("unread/", views_staff.unread_count, name="messages_unread"),
    path("public/", views_staff.public_list, name="messages_public"),
    path("<int:channel_id>/", views_staff.channel_page, name="message_channel"),
    path("<int:channel_id>/updates/", views_staff.channel_updates, name="message_updates"),
    path("<int:channel_id>/join/", views_staff.channel_join, name="message_join"),
    path("<int:channel_id>/access/", views_staff.channel_access, name="message_access"),
    path("<int:channel_id>/delete-history/", views_staff.channel_delete_history, name="message_delete_history"),
]
