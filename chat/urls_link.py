"""Chat from the personal appointment link: /c/chat/ (included from consult/urls.py). The panel itself is part
of the link's pages (consult/templates/consult/link_state.html and waiting_room.html)."""

from django.urls import path

from . import views_link

app_name = "chat"
urlpatterns = [
    path("", views_link.post, name="post"),
    path("updates/", views_link.updates, name="updates"),
]
