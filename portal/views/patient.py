"""The patient portal's pages (being built: see portal/patient_urls.py)."""

from django.http import Http404, HttpResponse
from django.shortcuts import redirect


def home(request):
    if request.organization is None:
        raise Http404
    return HttpResponse("")


def start(request, value):
    return redirect("patient:home")
