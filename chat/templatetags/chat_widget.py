"""{% chat_widget_embed_urls organization as urls %}: the addresses an embedded chat widget needs (urls.page,
urls.script), like widgets' {% widget_embed_urls %} for the walk-in and booking widgets."""

from django import template

from chat import widget_access

register = template.Library()


@register.simple_tag(takes_context=True)
def chat_widget_embed_urls(context, organization=None):
    request = context.get("request")
    organization = organization or getattr(request, "organization", None)
    if organization is None:
        return {}
    return widget_access.chat_widget_embed_urls(organization, request)
