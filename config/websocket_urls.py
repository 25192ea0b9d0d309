"""WebSocket routes. The waiting room and consultation room consumers (consult/consumers/) join here."""

websocket_urlpatterns = []
