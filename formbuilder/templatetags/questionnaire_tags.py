"""Questionnaire sections of the staff screens (client, appointment, consultation room)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def client_questionnaires(context, client):
    return ""


@register.simple_tag(takes_context=True)
def appointment_questionnaires(context, appointment):
    return ""


@register.simple_tag(takes_context=True)
def room_questionnaires(context, appointment):
    return ""
