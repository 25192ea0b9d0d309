"""Patient sign-in (emailed PINs) and QR access codes for the client app (F-PORTAL-1,3, F-CLIENT-2).

Neither a PIN nor a QR token is stored: a PIN as HMAC-SHA256 keyed with SECRET_KEY (bound to its client), a
token as its SHA-256. Emails go out after the transaction commits. Callers check who may act (staff views
use orgs.policy); functions here validate their input before they write.
"""

import base64
import hashlib
import hmac
import io
import logging
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts import signin_throttle
from consult.models import Client
from formbuilder import crypto
from orgs.logo import data_uri, logo_data_uri
from orgs.models import Organization
from orgs.scoping import organization_scope
from orgs.selectors import member_capacity

from . import throttle
from .models import PIN_MAX_ATTEMPTS, AccessCode, AccessCodeDelivery, PortalPin
from .patient_links import portal_link

logger = logging.getLogger(__name__)

PIN_SALT = "openconsult.portal.pin"
PIN_MAX_MINUTES = 30
WINDOW_SECONDS = 15 * 60
PIN_REQUESTS_PER_CLIENT = 3
PIN_REQUESTS_PER_ADDRESS = 10
# PIN tries (right or wrong) per address: accounts/signin_throttle.py locks the address past this, and records it.
PIN_TRIES_PER_ADDRESS = signin_throttle.ADDRESS_LIMITS["pin"].failures
# Wrong codes for one client, over all their PINs, before sign-in pauses for a day: five tries per PIN and
# three PINs per quarter hour would otherwise allow ~1,400 guesses a day at one patient's portal.
PIN_WRONG_TRIES_PER_DAY = 10

SCOPE_CLIENT = "client"  # the PIN opens the one client a portal link named
SCOPE_EMAIL = "email"  # the PIN opens every client record of the organisation with that email address


class ThrottledError(Exception):
    def __init__(self, until):
        super().__init__("throttled")
        self.until = until


# --- PINs ----------------------------------------------------------------------------------------------

def pin_hash(client_id, pin):
    return salted_hmac(PIN_SALT, f"{client_id}:{pin}", algorithm="sha256").hexdigest()


def pin_minutes(organization):
    return max(1, min(organization.portal_pin_minutes or 10, PIN_MAX_MINUTES))


def pin_issue(*, client, sent_by=None):
    """A new 6-digit PIN for `client` (older ones are void). Returns the PIN; only its hash is stored."""
    pin = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        PortalPin.objects.with_scopes_disabled().filter(
            organization_id=client.organization_id, client=client, used_at__isnull=True, voided_at__isnull=True,
        ).update(voided_at=now)
        PortalPin.objects.with_scopes_disabled().create(
            organization_id=client.organization_id, client=client, pin_hash=pin_hash(client.pk, pin),
            expires_at=now + timedelta(minutes=pin_minutes(client.organization)), sent_by=sent_by,
        )
    return pin


def _send(*, client, subject, template, context, attachments=()):
    organization = client.organization
    with translation.override(client.language or organization.default_language):
        context = {"organization": organization, "client": client, "language": translation.get_language(),
                   **context}
        text = render_to_string(f"patient/email/{template}.txt", context)
        html = render_to_string(f"patient/email/{template}.html", context)
        message = EmailMultiAlternatives(subject=subject(), body=text, to=[client.email])
    message.attach_alternative(html, "text/html")
    if attachments:
        message.mixed_subtype = "related"
        for part in attachments:
            message.attach(part)
    message.send()


def pin_email_send(*, client, pin, with_link=False):
    organization = client.organization
    _send(
        client=client, template="pin",
        subject=lambda: _("Your sign-in code for %(organisation)s") % {"organisation": organization.name},
        context={"pin": pin, "minutes": pin_minutes(organization),
                 "link": portal_link(client) if with_link else "", "spaced_pin": f"{pin[:3]} {pin[3:]}"},
    )


def _pin_context(client_id):
    return f"portal-pin:{client_id}".encode()


def pin_email_queue(*, client, pin, with_link=False):
    """Email the PIN from the task worker after the commit, so that a visitor's request does the same
    work, as fast, whether or not their details matched (no mail-server delay or failure tells them).
    The PIN waits in the queue sealed (formbuilder/crypto.py), never in clear."""
    sealed = base64.b64encode(crypto.seal(pin.encode(), context=_pin_context(client.pk))).decode()
    transaction.on_commit(lambda: _queue("portal.tasks.pin_email", client.organization_id, client.pk, sealed,
                                         with_link))


def _queue(task, *args):
    from django_q.tasks import async_task

    async_task(task, *args, task_name=task.rsplit(".", 1)[-1])


def _queued_client(organization_id, client_id):
    """The client a queued email is for, read inside its organisation's scope (None when gone)."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return None
    with organization_scope(organization):
        client = Client.objects.select_related("organization").filter(pk=client_id).first()
    return client if client is not None and client.email else None


def pin_email_deliver(*, organization_id, client_id, sealed_pin, with_link=False):
    client = _queued_client(organization_id, client_id)
    if client is None:
        return
    pin = crypto.unseal(base64.b64decode(sealed_pin), context=_pin_context(client_id)).decode()
    with organization_scope(client.organization):
        pin_email_send(client=client, pin=pin, with_link=with_link)


def _normal_email(value):
    return (value or "").strip().casefold()


def clients_for_request(organization, *, hint_client_id=None, email="", date_of_birth=None):
    """The client a PIN request is for and the PIN's scope, or (None, scope) when nothing matched."""
    clients = Client.objects.with_scopes_disabled().filter(organization=organization, is_external=False)
    if hint_client_id is not None:
        client = clients.filter(pk=hint_client_id).first()
        if client is None:
            return None, SCOPE_CLIENT
        if email and _normal_email(client.email) == _normal_email(email):
            return client, SCOPE_CLIENT
        if date_of_birth and client.date_of_birth == date_of_birth:
            return client, SCOPE_CLIENT
        return None, SCOPE_CLIENT
    if not email:
        return None, SCOPE_EMAIL
    return clients.filter(email__iexact=email.strip()).order_by("pk").first(), SCOPE_EMAIL


def _who_key(organization, hint_client_id, email, date_of_birth):
    if hint_client_id is not None:
        who = f"c{hint_client_id}"
    else:
        who = "e" + hashlib.sha256(_normal_email(email).encode()).hexdigest()[:32]
    return f"portal:pin-request:{organization.pk}:{who}"


def pin_request(*, organization, address, hint_client_id=None, email="", date_of_birth=None):
    """A visitor asks for a PIN. Sends one (after commit) when the details match; the caller answers the
    same either way. Raises ThrottledError (for known and unknown details alike). Returns (client or None, scope)."""
    for key, limit in ((f"portal:pin-request:ip:{address}", PIN_REQUESTS_PER_ADDRESS),
                       (_who_key(organization, hint_client_id, email, date_of_birth), PIN_REQUESTS_PER_CLIENT)):
        until = throttle.hit(key, limit=limit, window_seconds=WINDOW_SECONDS)
        if until is not None:
            raise ThrottledError(until)
    client, scope = clients_for_request(organization, hint_client_id=hint_client_id, email=email,
                                        date_of_birth=date_of_birth)
    if client is not None:
        until = throttle.hit(f"portal:pin-request:client:{client.pk}", limit=PIN_REQUESTS_PER_CLIENT,
                             window_seconds=WINDOW_SECONDS)
        if until is not None:
            raise ThrottledError(until)
        paused_until = sign_in_paused_until(client)
        if paused_until is not None:
            # The same answer as always; the client (not the visitor) is told why no code came.
            logger.warning("Portal sign-in of client %s paused after repeated wrong codes", client.pk)
            transaction.on_commit(lambda: _queue("portal.tasks.sign_in_paused_email", client.organization_id, client.pk,
                                                 paused_until.isoformat()))
            return client, scope
        with transaction.atomic():
            pin = pin_issue(client=client)
            pin_email_queue(client=client, pin=pin)
    return client, scope


def _pause_key(client_id):
    return f"client:{client_id}"


def sign_in_paused_until(client):
    """When too many wrong codes were typed for `client` in the last day: until when sign-in pauses."""
    since = timezone.now() - timedelta(days=1)
    # An org admin's "Unlock" (Sign-in lockouts) starts the count again.
    unlocked = signin_throttle.unlocked_at(path="pin", key=_pause_key(client.pk), organization=client.organization)
    if unlocked is not None and unlocked > since:
        since = unlocked
    pins = PortalPin.objects.with_scopes_disabled().filter(client=client, created_at__gte=since, attempts__gt=0)
    wrong = sum(pins.values_list("attempts", flat=True))
    if wrong < PIN_WRONG_TRIES_PER_DAY:
        return None
    return pins.order_by("created_at").first().created_at + timedelta(days=1)


def sign_in_paused_email(*, organization_id, client_id, until):
    client = _queued_client(organization_id, client_id)
    if client is None:
        return
    organization = client.organization
    with organization_scope(organization):
        _send(client=client, template="paused",
              subject=lambda: _("Signing in to %(organisation)s is paused") % {"organisation": organization.name},
              context={"until": datetime.fromisoformat(until).astimezone(zoneinfo.ZoneInfo(organization.time_zone))})


def clients_opened_by(client, scope):
    if scope != SCOPE_EMAIL:
        return [client.pk]
    return list(Client.objects.with_scopes_disabled().filter(
        organization_id=client.organization_id, is_external=False, email__iexact=client.email,
    ).values_list("pk", flat=True))


def pin_check(*, organization, client_id, scope, pin, address):
    """Check a PIN typed for `client_id`. Returns the client ids it opens, or None. A wrong PIN counts
    against the PIN (void after PIN_MAX_ATTEMPTS) and against the address; raises ThrottledError."""
    until = signin_throttle.hit(path="pin", organization=organization, address=address)
    if until is not None:
        raise ThrottledError(until.timestamp())
    pin = "".join((pin or "").split())
    if client_id is None or not (len(pin) == 6 and pin.isdigit()):
        return None
    now = timezone.now()
    with transaction.atomic():
        record = (PortalPin.objects.with_scopes_disabled().select_for_update()
                  .filter(organization=organization, client_id=client_id, used_at__isnull=True,
                          voided_at__isnull=True)
                  .select_related("client").order_by("-created_at", "-id").first())
        if record is None or not record.is_usable:
            return None
        if hmac.compare_digest(record.pin_hash, pin_hash(client_id, pin)):
            record.used_at = now
            record.save(update_fields=["used_at"])
            return clients_opened_by(record.client, scope)
        record.attempts += 1
        fields = ["attempts"]
        if record.attempts >= PIN_MAX_ATTEMPTS:
            record.voided_at = now
            fields.append("voided_at")
            logger.warning("Portal PIN %s of organisation %s void after %s wrong tries", record.pk,
                           organization.pk, record.attempts)
        else:
            logger.info("Wrong portal PIN for PIN %s (try %s)", record.pk, record.attempts)
        record.save(update_fields=fields)
        _record_pause(record.client, address)
    return None


def _record_pause(client, address):
    """The wrong code that pauses the client's sign-in for a day is recorded as a lockout, once."""
    paused_until = sign_in_paused_until(client)
    if paused_until is None:
        return
    since = paused_until - timedelta(days=1)
    wrong = sum(PortalPin.objects.with_scopes_disabled().filter(
        client=client, created_at__gte=since, attempts__gt=0).values_list("attempts", flat=True))
    if wrong == PIN_WRONG_TRIES_PER_DAY:
        signin_throttle.record_lockout(path="pin", key=_pause_key(client.pk), until=paused_until,
                                       who=_("client %(number)s (from %(address)s)") % {
                                           "number": client.pk, "address": address},
                                       organization=client.organization)


def staff_pin_send(*, member, client, request=None):
    """"Email a portal PIN" from the client record: the personal portal link and a PIN."""
    from orgs.services import audit_record

    _check_client(client, member)
    with transaction.atomic():
        pin = pin_issue(client=client, sent_by=member.user)
        audit_record(organization=client.organization, actor=member.user, action="portal.pin_sent", target=client,
                     subject=client.display_name, acting_for=member_capacity(member), request=request)
        pin_email_queue(client=client, pin=pin, with_link=True)


# --- QR access codes ---------------------------------------------------------------------------------

def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def access_code_url(organization, token):
    return organization.base_url + reverse("patient:qr", args=[token])


def qr_svg(url):
    """The QR code as a standalone SVG document (text), scalable and crisp on paper."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=4, dark="#000000", light="#ffffff",
                                    title=_("QR code"))
    return buffer.getvalue().decode()


def qr_data_uri(url):
    return data_uri("image/svg+xml", qr_svg(url).encode())


def _check_client(client, member):
    if client.organization_id != member.organization.pk or client.is_external:
        raise ValidationError(_("Remote access is for clients of your organisation."))
    if not client.email:
        raise ValidationError(_("This client has no email address."))


@dataclass
class NewAccessCode:
    code: AccessCode
    token: str
    url: str


def access_code_create(*, member, client, delivery, request=None):
    """A new QR code for `client`, valid for the organisation's period. The token exists only in the result."""
    from orgs.services import audit_record

    organization = client.organization
    _check_client(client, member)
    if not organization.client_app_enabled:
        raise ValidationError(_("The client app is switched off for your organisation."))
    if delivery not in AccessCodeDelivery.values:
        raise ValidationError(_("Choose how to send the QR code."))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        code = AccessCode.objects.with_scopes_disabled().create(
            organization=organization, client=client, token_hash=token_hash(token), delivery=delivery,
            created_by=member.user, expires_at=timezone.now() + timedelta(days=organization.access_code_days or 30),
        )
        audit_record(organization=organization, actor=member.user, action="portal.qr_created", target=code,
                     changes={"delivery": [None, delivery]}, subject=client.display_name,
                     acting_for=member_capacity(member), request=request)
    return NewAccessCode(code=code, token=token, url=access_code_url(organization, token))


def access_code_email(*, member, client, request=None):
    new = access_code_create(member=member, client=client, delivery=AccessCodeDelivery.EMAIL, request=request)
    from email.mime.image import MIMEImage

    svg = qr_svg(new.url)
    image = MIMEImage(svg.encode(), _subtype="svg+xml")
    image.add_header("Content-ID", "<qr-code>")
    image.add_header("Content-Disposition", "inline", filename="qr-code.svg")
    organization = client.organization
    valid_until = timezone.localtime(new.code.expires_at)

    def send():
        with translation.override(client.language or organization.default_language):
            until_text = formats.date_format(valid_until, "DATE_FORMAT")
        _send(client=client, template="qr",
              subject=lambda: _("Your QR code for the %(organisation)s app") % {"organisation": organization.name},
              context={"url": new.url, "valid_until": until_text}, attachments=[image])

    transaction.on_commit(send)
    return new


def access_code_letter(*, member, client, request=None):
    """A new QR code and the A4 letter (PDF bytes) that carries it."""
    from weasyprint import HTML, URLFetcher

    new = access_code_create(member=member, client=client, delivery=AccessCodeDelivery.LETTER, request=request)
    fetcher = URLFetcher(allowed_protocols={"data"})  # the embedded logo and QR only; nothing from outside
    return new, HTML(string=qr_letter_html(client, new.url, new.code.expires_at), url_fetcher=fetcher).write_pdf()


def qr_letter_html(client, url, expires_at):
    organization = client.organization
    with translation.override(client.language or organization.default_language):
        return render_to_string("patient/qr_letter.html", {
            "organization": organization, "client": client, "qr": qr_data_uri(url), "url": url,
            "valid_until": timezone.localtime(expires_at), "logo": logo_data_uri(organization),
            "today": timezone.localdate(), "language": translation.get_language(),
        })


def access_code_revoke(*, member, code, request=None):
    from orgs.services import audit_record

    if code.organization_id != member.organization.pk:
        raise ValidationError(_("This QR code is not of your organisation."))
    if code.revoked_at is not None:
        return code
    code.revoked_at = timezone.now()
    code.revoked_by = member.user
    with transaction.atomic():
        code.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(organization=code.organization, actor=member.user, action="portal.qr_revoked", target=code,
                     request=request)
    return code


def access_code_find(organization, token):
    """The access code a scanned token names (any state), or None."""
    return (AccessCode.objects.with_scopes_disabled().filter(organization=organization, token_hash=token_hash(token))
            .select_related("client").first())


def access_code_use(code):
    """The client confirmed on their phone: the code signs them in now (it was checked valid)."""
    code.last_used_at = timezone.now()
    code.save(update_fields=["last_used_at"])
