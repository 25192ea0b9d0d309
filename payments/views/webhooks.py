"""Provider webhooks (F-PAY-3): filled in by the provider work."""

from django.http import Http404


def stripe_webhook(request):
    raise Http404


def paypal_webhook(request):
    raise Http404
