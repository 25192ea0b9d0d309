"""The "you have a message" email (F-CHAT): a client or website visitor has a message from the practice
waiting unread. It never contains the message: only who wrote, and the way to read it (the patient portal for
clients, the conversation's address for visitors). HTML and text, in the reader's language.

Each send is recorded as a consult.EmailDelivery (kind chat_unread, no appointment), like the appointment
emails, so a failure shows in the usage report's failed emails and staff have a record of it.
"""

import logging

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from consult.models import DeliveryStatus, EmailDelivery, EmailKind
from orgs.scoping import organization_scope

from .models import ChannelKind

logger = logging.getLogger(__name__)


def _recipient(channel):
    """(address, language, name or None, link) for the channel's client side, or None when there is nobody to
    email."""
    organization = channel.organization
    if channel.kind == ChannelKind.PUBLIC:
        if not channel.visitor_email:
            return None
        from .widget_access import public_conversation_url

        # No name: the visitor typed it (and the address), so greeting with it would put anyone's text under the
        # practice's brand in someone's inbox. The email greets neutrally.
        return (channel.visitor_email, channel.visitor_language or organization.default_language,
                None, public_conversation_url(channel))
    client = channel.client
    if client is None or not client.email:
        return None
    from portal.patient_links import portal_link

    return client.email, client.language or organization.default_language, client.display_name, portal_link(client)


def _from_name(channel):
    if channel.practitioner_id:
        return channel.practitioner.user.get_full_name() or channel.organization.name
    if channel.department_id:
        return channel.department.name
    return channel.organization.name


def unread_email_send(*, channel):
    """Send the email for `channel` and record it; False when nothing was sent (emails off, no address) or the
    send failed (recorded as a failed delivery, not raised: the caller has claimed the waiting message already,
    so it is not emailed about again either way)."""
    organization = channel.organization
    if organization.do_not_send_emails:
        return False
    recipient = _recipient(channel)
    if recipient is None:
        return False
    address, language, name, link = recipient
    with translation.override(language):
        context = {"organization": organization, "name": name, "sender": _from_name(channel), "link": link,
                   "public": channel.kind == ChannelKind.PUBLIC, "language": translation.get_language()}
        subject = _("You have a new message from %(organisation)s") % {"organisation": organization.name}
        text = render_to_string("chat/email/unread.txt", context)
        html = render_to_string("chat/email/unread.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[address])
    message.attach_alternative(html, "text/html")
    with organization_scope(organization):
        delivery = EmailDelivery.objects.create(organization=organization, kind=EmailKind.CHAT_UNREAD, to=address)
        try:
            message.send()
        except Exception as error:  # noqa: BLE001 - any transport failure is recorded on the delivery
            logger.warning("Unread-chat email for chat channel %s failed: %s", channel.pk, error)
            delivery.status = DeliveryStatus.FAILED
            delivery.error = str(error)[:1000]
            delivery.save(update_fields=["status", "error", "updated_at"])
            return False
        delivery.status = DeliveryStatus.SENT
        delivery.save(update_fields=["status", "updated_at"])
    return True
