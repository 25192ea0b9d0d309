"""The client's side of paying (F-PAY-3): filled in by the client-flow work."""

from django.http import Http404


def pay(request):
    raise Http404


def start(request):
    raise Http404


def returned(request, reference):
    raise Http404


def cancelled(request, reference):
    raise Http404


def status(request, reference):
    raise Http404
