from django.urls import path

from .views import account, agenda, appointments, clients, room, waiting

app_name = "portal"
urlpatterns = [
    path("", account.home, name="home"),
    path("profile/", account.profile, name="profile"),
    path("today/", appointments.today, name="today"),
    path("waiting-room/", waiting.waiting_room, name="waiting_room"),
    path("waiting-room/list/", waiting.waiting_list, name="waiting_list"),
    path("waiting-room/count/", waiting.waiting_count, name="waiting_count"),
    path("announcements/", waiting.announcements, name="announcements"),
    path("announcements/delete/", waiting.announcements_delete, name="announcements_delete"),
    path("waiting-room/<int:entry_id>/call-in/", waiting.call_in, name="call_in"),
    path("walk-in/", room.walk_in_switch, name="walk_in_switch"),
    path("room/<int:appointment_id>/", room.consult_room, name="room"),
    path("room/<int:appointment_id>/start/", room.consult_start, name="room_start"),
    path("room/<int:appointment_id>/end/", room.consult_end, name="room_end"),
    path("room/<int:appointment_id>/participants/", room.add_participant, name="room_participants"),
    path("room/<int:appointment_id>/files/", room.file_upload, name="room_files"),
    path("room/<int:appointment_id>/files/<int:file_id>/", room.file_download, name="room_file"),
    path("clients/", clients.client_list, name="clients"),
    path("clients/new/", clients.client_create, name="client_create"),
    path("clients/matches/", clients.client_matches, name="client_matches"),
    path("clients/<int:client_id>/", clients.client_detail, name="client_detail"),
    path("clients/<int:client_id>/edit/", clients.client_edit, name="client_edit"),
    path("clients/<int:client_id>/quick-consult/", appointments.quick_consult, name="quick_consult"),
    path("agenda/", agenda.agenda, name="agenda"),
    path("agenda/hours/new/", agenda.availability_edit, name="availability_create"),
    path("agenda/hours/<int:availability_id>/", agenda.availability_edit, name="availability_edit"),
    path("agenda/hours/<int:availability_id>/delete/", agenda.availability_delete, name="availability_delete"),
    path("agenda/hours/<int:availability_id>/day/", agenda.availability_day, name="availability_day"),
    path("agenda/free-slots/", agenda.free_slots, name="free_slots"),
    path("appointments/", appointments.appointment_list, name="appointments"),
    path("appointments/new/", appointments.appointment_create, name="appointment_create"),
    path("appointments/<int:appointment_id>/", appointments.appointment_detail, name="appointment_detail"),
    path("appointments/<int:appointment_id>/reschedule/", appointments.appointment_reschedule,
         name="appointment_reschedule"),
    path("appointments/<int:appointment_id>/cancel/", appointments.appointment_cancel, name="appointment_cancel"),
    path("appointments/<int:appointment_id>/details/", appointments.appointment_details,
         name="appointment_details"),
    path("appointments/<int:appointment_id>/charge/", appointments.appointment_charge, name="appointment_charge"),
    path("appointments/<int:appointment_id>/receipts/<uuid:reference>/", appointments.appointment_receipt,
         name="appointment_receipt"),
]

# The client record's patient-portal access: PIN, QR code by email or letter, revoking (F-CLIENT-2).
from .views import access_codes  # noqa: E402

urlpatterns += [
    path("clients/<int:client_id>/access/pin/", access_codes.pin_send, name="client_access_pin"),
    path("clients/<int:client_id>/access/qr/email/", access_codes.qr_email, name="client_access_qr_email"),
    path("clients/<int:client_id>/access/qr/letter/", access_codes.qr_letter, name="client_access_qr_letter"),
    path("clients/<int:client_id>/access/qr/<int:code_id>/revoke/", access_codes.qr_revoke,
         name="client_access_qr_revoke"),
]

# Questionnaires on the staff side: reading answers (page, PDF, text, pictures) and sending (F-FORM-3, F-FORM-6).
from django.urls import include  # noqa: E402

from formbuilder.views import staff as questionnaire_staff  # noqa: E402

urlpatterns += [
    path("answers/", include("formbuilder.urls")),
    path("clients/<int:client_id>/questionnaires/send/", questionnaire_staff.questionnaires_send,
         name="questionnaires_send"),
]

# Chat on the staff side: the messages page, channels, unread counts, and a channel from the client record (F-CHAT).
from chat import views_staff as chat_staff  # noqa: E402

urlpatterns += [
    path("messages/", include("chat.urls_staff")),
    path("clients/<int:client_id>/chat/new/", chat_staff.client_channel_create, name="client_chat_create"),
]
