"""Chat on pages whose views belong to other apps: the patient portal's home page and the appointment link's
pages (consult.views.appointment). Like `{% paid_notice %}`, a tag brings the chat in, so those views need not
know about it.

    {% load chat_patient %}
    {% patient_chat_summary %}   the "Messages" section of the portal home (needs `clients` in the context)
    {% waiting_room_chat %}      the appointment's chat panel when the link's client may chat; once the link's
                                 chat is over, where to go on (the patient portal); else nothing

Both render in the page's own context (csrf_token, csp_nonce, request stay available to the includes).
"""

from django import template

register = template.Library()


def _render(context, template_name, values):
    with context.push(**values):
        return context.template.engine.get_template(template_name).render(context)


@register.simple_tag(takes_context=True)
def patient_chat_summary(context):
    from chat.selectors import clients_channels

    channels = clients_channels([client.pk for client in context.get("clients") or []])
    return _render(context, "chat/patient/_home_summary.html", {
        "channels": channels, "unread_total": sum(channel.unread for channel in channels), "show_client": True,
    })


@register.simple_tag(takes_context=True)
def waiting_room_chat(context):
    from chat.views_link import ended_context, panel_context

    request = context.get("request")
    if request is None:
        return ""
    values = panel_context(request)
    if values is not None:
        return _render(context, "chat/patient/_link_chat.html", values)
    ended = ended_context(request)  # the link's chat is over: the conversation goes on in the portal
    if ended is not None:
        return _render(context, "chat/patient/_link_chat_ended.html", ended)
    return ""
