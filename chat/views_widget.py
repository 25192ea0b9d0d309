"""The public chat widget (F-CHAT-6): a chat window for the organisation's web site, framed on any page.

Like the walk-in and booking widgets (widgets/views.py) these pages work inside a cross-site frame with
third-party cookies blocked: no session and no CSRF cookie. The start form carries a signed token; the
conversation is reached with the visitor's own credential in its address (chat/widget_access.py), which is
also what protects its POSTs. Spam is kept out by a honeypot field, length limits and rate limits (new
conversations per address and per organisation per hour, messages per conversation per minute), each refused
with a 429 that says when to try again.
"""

import time
from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from portal import throttle
from widgets.framing import framable
from widgets.tokens import client_address
from widgets.views import _use_page_language

from . import selectors, services, widget_access
from .access import visitor_post_limited
from .models import Author
from .serialise import message_json
from .widget_forms import ChatStartForm

# Rate limits against spam. A person asks one or two questions; a robot asks hundreds. One address can be a whole
# hospital's or office's wifi (many people behind one NAT address), so it gets room for 20 new conversations an
# hour; all addresses together start at most 200 an hour at one organisation (a robot with many addresses).
STARTS_PER_ADDRESS = 20
STARTS_PER_ORGANIZATION = 200
STARTS_WINDOW_SECONDS = 60 * 60
TOO_MANY = 429


def _organization(request, key):
    """The host's organisation when `key` is its chat widget's key; anything else is a 404."""
    organization = getattr(request, "organization", None)
    if organization is None or not widget_access.widget_key_is_valid(organization, key):
        raise Http404
    _use_page_language(request)
    return organization


def _lang_query(request):
    language = getattr(request, "widget_language", "")
    return f"?lang={language}" if language else ""


def _context(request, organization, **extra):
    return {"organization": organization, "widget_key": widget_access.chat_widget_key(organization),
            "start_url": widget_access.chat_widget_path(organization) + _lang_query(request), **extra}


def _unavailable(request, organization):
    """The organisation switched the widget off (or never on): a friendly page, never a dead frame."""
    return render(request, "chat/widget/unavailable.html", _context(request, organization))


def _retry_text(until):
    """"Please try again after 10:45 (in about 12 minutes)." in the organisation's time, for a 429."""
    moment = datetime.fromtimestamp(until, tz=timezone.get_current_timezone())
    minutes = max(1, round((until - time.time()) / 60))
    return ngettext("Please try again after %(time)s (in about %(minutes)s minute).",
                    "Please try again after %(time)s (in about %(minutes)s minutes).", minutes) % {
        "time": moment.strftime("%H:%M"), "minutes": minutes}


def _too_many(response, until):
    response["Retry-After"] = str(max(1, int(until - time.time())))
    return response


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "") or \
        request.headers.get("X-Requested-With") == "XMLHttpRequest"


# --- the start: name, email, first message -------------------------------------------------------

def _start_refusal(request, organization):
    """Count one new conversation against both limits: None when allowed, else (what to tell the visitor, the epoch
    second to try again)."""
    until = throttle.hit(f"chat:widget-start:{organization.pk}:{client_address(request)}",
                         limit=STARTS_PER_ADDRESS, window_seconds=STARTS_WINDOW_SECONDS)
    if until:
        return _("You have started several conversations in a short time.") + " " + _retry_text(until), until
    until = throttle.hit(f"chat:widget-start:{organization.pk}", limit=STARTS_PER_ORGANIZATION,
                         window_seconds=STARTS_WINDOW_SECONDS)
    if until:
        # Not the visitor's doing: say so, and how to reach the practice meanwhile.
        phone = organization.contact_phone
        call = (_("If your question cannot wait, call us at %(phone)s.") % {"phone": phone} if phone
                else _("If your question cannot wait, please call us."))
        return " ".join((_("We are receiving too many conversations right now."), _retry_text(until), call)), until
    return None


@framable
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def start(request, key):
    organization = _organization(request, key)
    if not organization.public_chat_widget:
        return _unavailable(request, organization)
    template = "chat/widget/start.html"
    if request.method == "GET":
        form = ChatStartForm(initial={"token": widget_access.form_token(organization)})
        return render(request, template, _context(request, organization, form=form))
    form = ChatStartForm(request.POST)
    fresh_token = {"token": widget_access.form_token(organization)}
    if form.is_spam():
        # Filled in by a robot (people never see the field): nothing is written, and nothing tells it why.
        return render(request, template, _context(request, organization, form=ChatStartForm(initial=fresh_token),
                                                  message=_("Your message could not be sent. Please try again.")),
                      status=400)
    if not widget_access.form_token_is_valid(organization, request.POST.get("token")):
        form = ChatStartForm(initial={**request.POST.dict(), **fresh_token})
        return render(request, template, _context(request, organization, form=form, message=_(
            "This page was open for a long time. Please check your message and send it again.")), status=400)
    if not form.is_valid():
        return render(request, template, _context(request, organization, form=form), status=400)
    refusal = _start_refusal(request, organization)
    if refusal is not None:
        text, until = refusal
        return _too_many(render(request, "chat/widget/refused.html",
                                _context(request, organization, refusal=text), status=TOO_MANY), until)
    data = form.cleaned_data
    try:
        channel, token = services.public_conversation_start(
            organization=organization, name=data["name"], email=data["email"], text=data["text"],
            language=getattr(request, "widget_language", "") or get_language() or "")
    except ValidationError as error:
        for field, messages in (error.message_dict.items() if hasattr(error, "error_dict") else
                                [(None, error.messages)]):
            form.add_error(field if field in form.fields else None, messages)
        return render(request, template, _context(request, organization, form=form), status=400)
    return redirect(widget_access.conversation_path(channel, token) + _lang_query(request), permanent=False)


# --- the conversation: read, answer, follow -------------------------------------------------------

def _conversation(request, key, credential):
    organization = _organization(request, key)
    channel = widget_access.channel_for_visitor(organization, credential)
    if channel is None:
        raise Http404  # another visitor's, another organisation's, forged or expired: all look the same
    channel.organization = organization
    return organization, channel


def _history(channel, after_id=None):
    return selectors.messages_for(channel, after_id=after_id, for_client=True)  # "mine" = the visitor's


def _private(response):
    # The address is the visitor's key: it must not leave in a Referer (links in messages open other sites).
    response["Referrer-Policy"] = "no-referrer"
    return response


@framable
@csrf_exempt  # the credential in the address is what a forged cross-site POST cannot know
@never_cache
@require_http_methods(["GET", "POST"])
def conversation(request, key, credential):
    organization, channel = _conversation(request, key, credential)
    if not organization.public_chat_widget:
        return _private(_unavailable(request, organization))
    here = widget_access.conversation_path(channel, credential) + _lang_query(request)
    if request.method == "POST":
        return _private(_post(request, organization, channel, here))
    can_post, reason = services.client_may_post(channel)
    services.channel_mark_read_by_client(channel=channel)
    return _private(render(request, "chat/widget/conversation.html", _context(
        request, organization, channel=channel, history=_history(channel), ws_path=f"/ws/chat/{channel.pk}/",
        updates_url=widget_access.conversation_path(channel, credential) + "updates/",
        post_url=here, can_post=can_post, closed_reason=reason,
        # the socket's hello accepts a token or a return pass (chat/consumers.py → channel_for_visitor)
        visitor_token=credential,
        # the frame remembers only a real token: a return pass expires, and is not this browser's own
        remembered_token=credential if ":" not in credential else "",
    )))


def _post(request, organization, channel, here):
    can_post, reason = services.client_may_post(channel)
    if not can_post:
        return _post_refused(request, organization, reason, status=403)
    until = visitor_post_limited(channel)
    if until:
        refusal = _("You sent many messages in a short time.") + " " + _retry_text(until)
        return _too_many(_post_refused(request, organization, refusal, status=TOO_MANY), until)
    try:
        message = services.message_post(channel=channel, text=request.POST.get("text", ""), visitor=True)
    except ValidationError as error:
        return _post_refused(request, organization, " ".join(error.messages), status=400)
    if _wants_json(request):
        return JsonResponse({"message": message_json(message, viewer=Author.VISITOR)}, status=201)
    return redirect(here)


def _post_refused(request, organization, reason, *, status):
    if _wants_json(request):
        return JsonResponse({"error": reason}, status=status)
    return render(request, "chat/widget/refused.html", _context(
        request, organization, refusal=reason, back_url=request.path + _lang_query(request)), status=status)


@framable
@never_cache
@require_GET
def updates(request, key, credential):
    """The chat component's fallback while its socket is down: new messages since ?after=<id> (marks read)."""
    organization, channel = _conversation(request, key, credential)
    if not organization.public_chat_widget:
        raise Http404
    try:
        after_id = int(request.GET.get("after") or 0) or None
    except ValueError:
        after_id = None
    can_post, reason = services.client_may_post(channel)
    messages = _history(channel, after_id)
    if messages:
        services.channel_mark_read_by_client(channel=channel)
    return _private(JsonResponse({"messages": messages, "open": can_post, "reason": reason}))
