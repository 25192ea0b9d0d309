"""Filters that put organisation-written HTML and CSS into pages only after cleaning it.

    {% load sanitize %}
    <style>{{ page.custom_css|sanitized_css:organization }}</style>
    {{ page.body|clean_richtext }}   {# Wagtail's link/embed expansion, then nh3 #}
    {{ widget.text|clean_html }}

The CSS was validated when it was saved; it is sanitised again here in case the allow-list has
tightened since, or the value reached the database another way.
"""

from django import template
from django.utils.safestring import mark_safe
from wagtail.rich_text import expand_db_html

from cms import css_sanitizer, html_sanitizer

register = template.Library()


@register.filter
def sanitized_css(css, organization=None):
    # Safe inside <style>: the sanitiser never outputs "<", and autoescaping would break quotes and ">".
    return mark_safe(css_sanitizer.sanitized_css_text(str(css or ""), organization=organization))  # noqa: S308


@register.filter
def clean_richtext(value):
    return mark_safe(html_sanitizer.clean_html(expand_db_html(html_sanitizer.source_of(value))))  # noqa: S308


@register.filter(name="clean_html")
def clean_html_filter(value):
    return mark_safe(html_sanitizer.clean_html(value))  # noqa: S308
