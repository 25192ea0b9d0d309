"""django-q2 entry points of the patient portal; each calls a service (which enters the organisation's scope)."""

from . import services


def pin_email(organization_id, client_id, sealed_pin, with_link=False):
    services.pin_email_deliver(organization_id=organization_id, client_id=client_id, sealed_pin=sealed_pin,
                               with_link=with_link)


def sign_in_paused_email(organization_id, client_id, until):
    services.sign_in_paused_email(organization_id=organization_id, client_id=client_id, until=until)
