"""The client record's "remote access" section: portal PINs and QR codes (F-CLIENT-2)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def client_access_codes(context, client):
    return ""
