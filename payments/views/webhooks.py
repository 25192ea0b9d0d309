"""Provider webhooks (F-PAY-3): the provider's word on a payment, verified and applied exactly once.

The organisation is the host's; its secret verifies the delivery. No session, no CSRF token (the signature is the
authentication). Answers: 200 applied or nothing to do (duplicate, not our payment), 400 refused (signature,
stale, malformed), 503 when PayPal could not be asked to verify, or a verified event is shaped in a way we did not
foresee (the provider delivers again later; never a 500 with its body in the error report).
"""

import logging

from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .. import services

log = logging.getLogger(__name__)


# A verified event whose fields are not what the services expect (they guard what they read; this is the net).
UNFORESEEN = (KeyError, TypeError, AttributeError, ValueError, IndexError)


def _unforeseen(provider, organization, error):
    # The type only: the message could quote the payload (payer data).
    log.error("%s webhook of organisation %s not applied: %s", provider, organization.pk, type(error).__name__)
    return HttpResponse("try again", status=503, content_type="text/plain")


def _organization(request):
    if getattr(request, "organization", None) is None:
        raise Http404
    return request.organization


@csrf_exempt
@require_POST
def stripe_webhook(request):
    organization = _organization(request)
    try:
        outcome = services.stripe_webhook_handle(organization=organization, payload=request.body,
                                                 signature_header=request.headers.get("Stripe-Signature", ""))
    except services.WebhookRefusedError as error:
        log.warning("Stripe webhook refused for organisation %s: %s", organization.pk, error)
        return HttpResponse("refused", status=400, content_type="text/plain")
    except UNFORESEEN as error:
        return _unforeseen("Stripe", organization, error)
    return HttpResponse(outcome, content_type="text/plain")


@csrf_exempt
@require_POST
def paypal_webhook(request):
    organization = _organization(request)
    headers = {name.upper(): value for name, value in request.headers.items()}
    try:
        outcome = services.paypal_webhook_handle(organization=organization, payload=request.body, headers=headers)
    except services.WebhookRefusedError as error:
        log.warning("PayPal webhook refused for organisation %s: %s", organization.pk, error)
        return HttpResponse("refused", status=400, content_type="text/plain")
    except services.ProviderUnavailableError as error:
        log.warning("PayPal webhook of organisation %s not verified now: %s", organization.pk, error)
        return HttpResponse("try again", status=503, content_type="text/plain")
    except UNFORESEEN as error:
        return _unforeseen("PayPal", organization, error)
    return HttpResponse(outcome, content_type="text/plain")
