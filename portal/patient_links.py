"""The client's personal link to the patient portal, as emails and the client record give it.

The link only tells the portal which client is signing in; it grants nothing by itself (the portal still
asks for the email address or date of birth, then for the PIN it emails). It is signed, so it cannot be
turned into another client's link, and it names the organisation, so it never opens another's portal.
"""

from django.core import signing
from django.urls import reverse

SALT = "patient-portal-link"


def portal_path(client):
    value = signing.dumps({"o": client.organization_id, "c": client.pk}, salt=SALT)
    return reverse("patient:start", args=[value])


def portal_link(client):
    return f"{client.organization.base_url}{portal_path(client)}"


def client_id_from_link(organization, value):
    """The client id the link names, or None when it is forged or of another organisation."""
    try:
        data = signing.loads(value, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("o") != organization.pk or not isinstance(data.get("c"), int):
        return None
    return data["c"]
