"""{% widget_embed_urls widget as urls %}: the addresses an embedded widget needs (urls.page, urls.script)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def widget_embed_urls(context, widget):
    request = context.get("request")
    return {"page": widget.get_embed_url(request), "script": widget.get_embed_script_url(request)}
