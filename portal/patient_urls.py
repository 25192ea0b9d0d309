"""The patient portal, on /patient/ of the organisation's host (F-PORTAL). Patients have no accounts."""

from django.urls import include, path

from .views import patient, patient_forms

app_name = "patient"
urlpatterns = [
    path("", patient.home, name="home"),
    path("start/<str:value>/", patient.start, name="start"),
    path("sign-in/", patient.sign_in, name="sign_in"),
    path("code/", patient.code, name="code"),
    path("sign-out/", patient.sign_out, name="sign_out"),
    path("qr/<str:token>/", patient.qr, name="qr"),
    path("appointments/<int:appointment_id>/waiting-room/", patient.waiting_room, name="waiting_room"),
    path("messages/", include("chat.urls_patient")),
    path("questionnaires/<int:response_id>/", patient_forms.fill, name="questionnaire"),
    path("questionnaires/<int:response_id>/autosave/", patient_forms.autosave, name="questionnaire_autosave"),
    path("manifest.webmanifest", patient.manifest, name="manifest"),
    path("sw.js", patient.service_worker, name="sw"),
    path("offline/", patient.offline, name="offline"),
]
