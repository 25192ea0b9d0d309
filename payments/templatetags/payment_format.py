"""{{ amount|money:currency }} in templates: payments.charges.money, so pages and emails write amounts alike."""

from django import template

from ..charges import money as money_text

register = template.Library()


@register.filter
def money(amount, currency):
    return money_text(amount, currency) if amount is not None else ""
