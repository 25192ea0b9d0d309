"""Staff reading questionnaire answers; included by portal/urls.py under answers/ (names: portal:answers_*)."""

from django.urls import path

from .views import staff

urlpatterns = [
    path("<int:response_id>/", staff.answers_view, name="answers_view"),
    path("<int:response_id>/pdf/", staff.answers_pdf, name="answers_pdf"),
    path("<int:response_id>/text/", staff.answers_text, name="answers_text"),
    path("<int:response_id>/images/<uuid:upload_uuid>/", staff.answers_image, name="answers_image"),
]
