"""The client record's "remote access" section (F-CLIENT-2): email a portal PIN, email a QR code, print a
QR letter, revoke QR codes. Staff who may see the client only (orgs.policy); every change is a POST."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from consult import selectors
from orgs import policy

from .. import services
from ..access import member_required
from ..models import AccessCode


def _client(request, client_id):
    client = selectors.client_for(request.membership, client_id)
    if client is None or client.is_external or not policy.can_view_client(request.membership, client):
        raise Http404
    return client


def _back(client):
    return redirect(f"/portal/clients/{client.pk}/#remote-access")


def _send(request, client_id, send, done_message):
    client = _client(request, client_id)
    try:
        send(member=request.membership, client=client, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done_message % {"email": client.email})
    return _back(client)


@member_required
@require_POST
def pin_send(request, client_id):
    return _send(request, client_id, services.staff_pin_send,
                 _("A portal link and PIN have been emailed to %(email)s."))


@member_required
@require_POST
def qr_email(request, client_id):
    return _send(request, client_id, services.access_code_email, _("A QR code has been emailed to %(email)s."))


@never_cache
@member_required
@require_POST
def qr_letter(request, client_id):
    client = _client(request, client_id)
    try:
        _new, pdf = services.access_code_letter(member=request.membership, client=client, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back(client)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="qr-letter-{client.pk}.pdf"'
    return response


@member_required
@require_POST
def qr_revoke(request, client_id, code_id):
    client = _client(request, client_id)
    code = AccessCode.objects.filter(pk=code_id, client=client).first()
    if code is None:
        raise Http404
    try:
        services.access_code_revoke(member=request.membership, code=code, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The QR code has been revoked; it no longer opens the portal."))
    return _back(client)
