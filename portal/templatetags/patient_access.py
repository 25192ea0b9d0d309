"""The client record's "remote access" section: portal PINs and QR codes (F-CLIENT-2)."""

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def client_access_codes(context, client):
    from portal.models import AccessCode

    request = context.get("request")
    organization = getattr(request, "organization", None)
    if organization is None or client.is_external:
        return ""
    codes = list(AccessCode.objects.filter(client=client).select_related("created_by", "revoked_by")[:50])
    from portal.patient_links import portal_link

    return render_to_string("portal/clients/_access_codes.html", {
        "client": client, "codes": codes, "organization": organization, "portal_link": portal_link(client),
        "membership": getattr(request, "membership", None),
    }, request=request)
