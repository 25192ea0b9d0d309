from django.urls import path

from . import views

app_name = "widgets"
urlpatterns = [
    path("walk-in/<str:key>/", views.walk_in, name="walk_in"),
    path("walk-in/<str:key>/available/", views.walk_in_available, name="walk_in_available"),
    path("booking/<str:key>/", views.booking, name="booking"),
]
