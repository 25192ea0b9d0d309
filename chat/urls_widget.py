"""The public chat widget (F-CHAT-6), under /widgets/chat/<widget key>/ on the organisation's host."""

from django.urls import path

from . import views_widget

app_name = "chat_widget"
urlpatterns = [
    path("<str:key>/", views_widget.start, name="start"),
    # <credential>: the visitor's token, or an email's signed return pass (chat/widget_access.py)
    path("<str:key>/c/<str:credential>/", views_widget.conversation, name="conversation"),
    path("<str:key>/c/<str:credential>/updates/", views_widget.updates, name="updates"),
]
