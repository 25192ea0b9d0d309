"""The client's side of paying (F-PAY-3, F-APPT-6): the pay page, off to the provider, back again.

The payer is the participant whose personal link this browser opened (consult.views._session_participant);
a payment reference that is not theirs is a 404. Writes happen in payments.services; these views only
choose what to show.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consult import links
from consult.selectors import zone_of
from consult.views import _session_participant, link_state
from orgs.scoping import organization_scope
from portal import throttle

from .. import selectors
from ..forms_client import BillingForm
from ..gate import payment_due_for
from ..models import Payment, PaymentStatus, Provider
from ..providers import checkout_origin

logger = logging.getLogger(__name__)

# Starting a checkout costs a call to the provider: a session may start a few, not spray them.
START_LIMIT, START_WINDOW_SECONDS = 10, 15 * 60
# Back from the provider the webhook normally confirms within seconds; if it has not after this long we ask the
# provider ourselves (at most once per REFRESH_EVERY per payment, whoever polls), and after CONFIRM_PATIENCE we
# say so.
REFRESH_AFTER_SECONDS, REFRESH_EVERY_SECONDS, CONFIRM_PATIENCE_SECONDS = 10, 10, 120
POLL_MILLISECONDS = 2000
def _services():
    # Imported when used: the provider work owns payments/services.py.
    from .. import services

    return services


def _payer(request):
    """(participant, charge) when this browser's client may pay now; else (None, the response to give)."""
    if request.organization is None:
        raise Http404
    participant, refusal = _session_participant(request)
    if refusal is not None:
        return None, refusal
    state = link_state(participant.appointment, request.organization)
    charge = payment_due_for(participant) if state in (links.Window.OPEN, links.Window.TOO_EARLY) else None
    if charge is None:
        # Paid, nothing to pay, not the client, or the link does not open (too late, cancelled): the appointment
        # view says which.
        return None, redirect("consult:appointment")
    return (participant, charge), None


def _own_payment(request, reference):
    """(participant, payment) for a reference of this browser's participant; 404 for any other."""
    if request.organization is None:
        raise Http404
    participant, refusal = _session_participant(request)
    if refusal is not None:
        return None, refusal
    with organization_scope(request.organization):
        payment = Payment.objects.filter(reference=reference, participant=participant,
                                         organization=request.organization).first()
    if payment is None:
        raise Http404
    return (participant, payment), None


def _appointment_facts(request, appointment):
    zone = zone_of(request.organization)
    return {
        "appointment": appointment,
        "starts_at": appointment.starts_at.astimezone(zone),
        "today": timezone.localdate(timezone=zone),
        "with": (appointment.practitioner.user.get_full_name() if appointment.practitioner_id
                 else appointment.department.name if appointment.department_id else ""),
    }


def _initial(request, participant, row):
    person = participant.person
    initial = {
        "client_type": "private",
        "country": str(row.seller_country or ""),
        "name": person.display_name if person else "",
        "email": person.email if person else "",
    }
    # Back after "cancel" at the provider or a failed attempt: what the client entered last time, so a business
    # abroad is not quietly quoted again as a private client in the seller's country.
    with organization_scope(request.organization):
        latest = (Payment.objects.filter(participant=participant, organization=request.organization)
                  .order_by("-created_at").first())
    if latest is not None:
        initial.update({key: value for key, value in {
            "client_type": latest.client_type, "country": str(latest.billing_country or ""),
            "name": latest.billing_name, "company_name": latest.company_name, "vat_number": latest.vat_number,
            "email": latest.billing_email,
        }.items() if value})
    return initial


def _pending_payment(organization, participant):
    """The client's latest attempt that may still be completed at the provider, or None."""
    since = timezone.now() - timedelta(minutes=settings.PAYMENTS_CHECKOUT_MINUTES)
    with organization_scope(organization):
        return (Payment.objects.filter(participant=participant, status=PaymentStatus.OPEN, created_at__gte=since)
                .exclude(checkout_url="").order_by("-created_at").first())


def _checkout_origins(row, providers):
    # "Pay with …" ends in a redirect to the provider's page: the browser follows it only when the pay page's
    # Content-Security-Policy (form-action) names that origin. The same origins payment_start accepts, no other.
    origins = [checkout_origin(provider, row.paypal_mode) for provider in providers]
    return [origin for origin in dict.fromkeys(origins) if origin]


def _pay_page(request, participant, charge, *, form=None, error="", status=200):
    organization = request.organization
    row = selectors.settings_for(organization)
    providers = row.providers()
    context = {"participant": participant, "charge": charge, "description": charge.name,
               **_appointment_facts(request, participant.appointment)}
    if not providers:
        return render(request, "payments/client/unavailable.html", context, status=status)
    if form is None:
        # Without JavaScript, "Update the amount" sends the form here by GET: keep what was chosen.
        chosen = {key: request.GET[key] for key in ("client_type", "country", "name", "email", "company_name",
                                                    "vat_number") if request.GET.get(key)}
        form = BillingForm(initial={**_initial(request, participant, row), **chosen}, providers=providers)
    country, client_type, vat_number = form.quote_inputs()
    amounts = selectors.quote(organization=organization, charge=charge, client_country=country,
                              client_type=client_type, vat_number=vat_number)
    context.update({
        "form": form, "amounts": amounts, "providers": providers, "error": error,
        "pending": _pending_payment(organization, participant), "too_early":
            link_state(participant.appointment, organization) == links.Window.TOO_EARLY,
    })
    if request.GET.get("partial") == "amounts":
        return render(request, "payments/client/_amounts.html", context)
    response = render(request, "payments/client/pay.html", context, status=status)
    response.csp_form_action = _checkout_origins(row, providers)
    return response


@never_cache
@require_GET
def pay(request):
    payable, refusal = _payer(request)
    if refusal is not None:
        return refusal
    participant, charge = payable
    return _pay_page(request, participant, charge)


def _base_url(request):
    # The organisation's own host, as this request reached it: the provider sends the client back here, where
    # their (host-only) session cookie is.
    return f"{request.scheme}://{request.get_host()}"


def _add_service_errors(form, error):
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@never_cache
@require_POST
def start(request):
    payable, refusal = _payer(request)
    if refusal is not None:
        return refusal
    participant, charge = payable
    row = selectors.settings_for(request.organization)
    if not row.providers():
        return _pay_page(request, participant, charge)
    if request.POST.get("recompute"):
        # "Update the amount" (without JavaScript): the page again with what was chosen, nothing checked yet.
        chosen = {key: value for key, value in request.POST.items() if key in BillingForm.base_fields and value}
        form = BillingForm(initial={**_initial(request, participant, row), **chosen}, providers=row.providers())
        return _pay_page(request, participant, charge, form=form)
    form = BillingForm(request.POST, initial=_initial(request, participant, row), providers=row.providers())
    if throttle.hit(f"payments:start:{request.session.session_key}", limit=START_LIMIT,
                    window_seconds=START_WINDOW_SECONDS):
        return _pay_page(request, participant, charge, form=form, status=429,
                         error=_("You tried to pay many times in a short while. Please wait a few minutes and try "
                                 "again."))
    if not form.is_valid():
        return _pay_page(request, participant, charge, form=form, status=400)
    services = _services()
    try:
        payment = services.payment_start(participant=participant, provider=form.cleaned_data["provider"],
                                         billing=form.billing(), base_url=_base_url(request))
    except ValidationError as error:
        _add_service_errors(form, error)
        return _pay_page(request, participant, charge, form=form, status=400)
    except services.PaymentError as error:
        return _pay_page(request, participant, charge, form=form, error=error.message)
    response = HttpResponseRedirect(payment.checkout_url)
    response.status_code = 303
    return response


def _returned_key(payment):
    return f"payments:returned:{payment.reference}"


def _confirmation(participant, payment):
    """(payment, state) for the confirming page: "paid", "open", "slow" (open longer than we wait patiently),
    "failed" or "expired". Asks the provider itself when the webhook is late."""
    if payment.status == PaymentStatus.OPEN:
        returned_at = cache.get(_returned_key(payment))
        if returned_at is None:
            returned_at = time.time()
            cache.add(_returned_key(payment), returned_at, 3600)
        waited = time.time() - returned_at
        if waited >= REFRESH_AFTER_SECONDS and cache.add(f"payments:refreshed:{payment.reference}", 1,
                                                          REFRESH_EVERY_SECONDS):
            payment = _refresh(payment)
        if payment.status == PaymentStatus.OPEN:
            return payment, "slow" if waited >= CONFIRM_PATIENCE_SECONDS else "open"
    if payment_due_for(participant) is None:
        return payment, "paid"  # this payment, or another attempt for the same appointment (a second tab)
    if payment.status in (PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.REFUND_PENDING,
                          PaymentStatus.REFUNDED):
        return payment, "failed" if payment.status == PaymentStatus.FAILED else "expired"
    return payment, "open"


def _refresh(payment):
    services = _services()
    try:
        return services.payment_refresh(payment=payment)
    except services.PaymentError as error:
        # The provider did not answer now; the webhook, or the next poll, will.
        logger.warning("payment %s: refresh failed: %s", payment.reference, error.message)
        return payment


@never_cache
@require_GET
def returned(request, reference):
    """Back from the provider: the waiting room once the payment is confirmed, "confirming…" until then."""
    own, refusal = _own_payment(request, reference)
    if refusal is not None:
        return refusal
    participant, payment = own
    cache.add(_returned_key(payment), time.time(), 3600)
    if payment.status == PaymentStatus.OPEN and payment.provider == Provider.PAYPAL and request.GET.get("token"):
        # PayPal's approval is not a payment yet: it is captured now (the service does it once).
        # Once per REFRESH_EVERY like the poll: a reloaded return page does not ask PayPal again each time.
        if cache.add(f"payments:refreshed:{payment.reference}", 1, REFRESH_EVERY_SECONDS):
            payment = _refresh(payment)
    payment, state = _confirmation(participant, payment)
    if state == "paid":
        if link_state(participant.appointment, request.organization) == links.Window.TOO_EARLY:
            # Paid in advance: the "too early" page would not say that it worked.
            messages.success(request, _("Thank you, your payment is confirmed."))
        return redirect("consult:appointment")
    context = {"payment": payment, "state": state, "participant": participant, "poll_ms": POLL_MILLISECONDS,
               "description": payment.description,
               **_appointment_facts(request, participant.appointment)}
    return render(request, "payments/client/confirming.html", context)


@never_cache
@require_GET
def status(request, reference):
    """The confirming page's poll (JSON): {"state": …, "next": where to go now, or ""}."""
    own, refusal = _own_payment(request, reference)
    if refusal is not None:
        return JsonResponse({"state": "signed_out", "next": ""}, status=403)
    participant, payment = own
    payment, state = _confirmation(participant, payment)
    following = {"paid": reverse("consult:appointment")}.get(state, "")
    return JsonResponse({"state": state, "next": following})


@never_cache
@require_GET
def cancelled(request, reference):
    """The client left the provider's page with "cancel" (or "back"): that attempt ends; the pay page again."""
    own, refusal = _own_payment(request, reference)
    if refusal is not None:
        return refusal
    participant, payment = own
    if payment.status == PaymentStatus.OPEN:
        services = _services()
        try:
            services.payment_abandon(payment=payment)
        except services.PaymentError as error:
            logger.warning("payment %s: abandon failed: %s", payment.reference, error.message)
        messages.info(request, _("Payment cancelled. Nothing was charged."))
    return redirect("payments:pay")
