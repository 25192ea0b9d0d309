"""The consultation room's pages for patients (/c/room/); the staff side lives in portal/views/room.py."""

from django.http import Http404


def patient_room(request):
    raise Http404


def patient_file_upload(request):
    raise Http404


def patient_file_download(request, file_id):
    raise Http404
