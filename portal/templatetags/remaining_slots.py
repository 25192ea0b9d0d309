"""The portal top bar's count of booking slots a practitioner has left today (Organization.show_remaining_slots)."""

from django import template

from consult.selectors import remaining_slots_today
from orgs import policy

register = template.Library()


@register.inclusion_tag("portal/includes/remaining_slots.html", takes_context=True)
def remaining_slots(context):
    # A tag, not a context processor: the two queries run only on pages that show the top bar.
    request = context.get("request")
    member = getattr(request, "membership", None)
    if not policy.sees_remaining_slots(member):
        return {"count": None}
    return {"count": remaining_slots_today(request.organization, member)}
