"""WebSocket routes. Consumers decide access from the host and the session, never from the URL."""

from django.urls import path

from chat.consumers import ChatConsumer, ChatInboxConsumer
from consult.consumers.check import ConnectivityCheckConsumer
from consult.consumers.room import RoomConsumer
from consult.consumers.waiting import PatientWaitingConsumer, StaffWaitingConsumer

websocket_urlpatterns = [
    path("ws/waiting/patient/", PatientWaitingConsumer.as_asgi()),
    path("ws/waiting/staff/", StaffWaitingConsumer.as_asgi()),
    path("ws/check/", ConnectivityCheckConsumer.as_asgi()),
    path("ws/room/", RoomConsumer.as_asgi()),
    path("ws/room/<int:appointment_id>/", RoomConsumer.as_asgi()),
    path("ws/chat/inbox/", ChatInboxConsumer.as_asgi()),
    path("ws/chat/<int:channel_id>/", ChatConsumer.as_asgi()),
]
