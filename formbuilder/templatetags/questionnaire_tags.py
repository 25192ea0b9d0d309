"""Questionnaire sections of the staff screens (client, appointment, consultation room).

Each lists the questionnaires the reader may see (status new / started / finished, when sent and
finished, links to read the answers or download them) and, where the reader may send questionnaires
to this client, the "Send a questionnaire" form. Listing reads no answers, so it writes no audit row.
"""

from django import template
from django.template.loader import render_to_string

from orgs import policy

from .. import selectors

register = template.Library()


def _member(context):
    request = context.get("request")
    return getattr(request, "membership", None), request


def _send_form(member, client, appointment=None):
    from ..views.staff import send_form_for

    if client is None or client.is_external or not policy.can_view_client(member, client):
        return None
    return send_form_for(member, appointment=appointment)


def _render(request, context):
    return render_to_string("formbuilder/staff/section.html", context, request=request)


@register.simple_tag(takes_context=True)
def client_questionnaires(context, client):
    member, request = _member(context)
    if member is None:
        return ""
    responses = list(selectors.responses_for_client(member, client))
    return _render(request, {
        "responses": responses, "client": client, "show_appointment": True,
        "send_form": _send_form(member, client), "section_id": "questionnaires",
    })


@register.simple_tag(takes_context=True)
def appointment_questionnaires(context, appointment):
    member, request = _member(context)
    if member is None or appointment.client is None:
        return ""
    responses = list(selectors.responses_for_appointment(member, appointment).select_related("client"))
    return _render(request, {
        "responses": responses, "client": appointment.client, "appointment": appointment,
        "send_form": _send_form(member, appointment.client, appointment), "section_id": "questionnaires",
    })


@register.simple_tag(takes_context=True)
def room_questionnaires(context, appointment):
    """The room's side panel: the appointment's questionnaires and the client's others, links in a new tab."""
    member, request = _member(context)
    if member is None or appointment.client is None:
        return ""
    responses = list(selectors.answers_visible_to(member).filter(client=appointment.client)
                     .select_related("appointment"))
    return render_to_string("formbuilder/staff/room.html", {
        "responses": responses, "appointment": appointment,
    }, request=request)
