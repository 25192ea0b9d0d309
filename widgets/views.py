"""The public widget pages: thin adapters between the visitor's form, the selectors and the services.

They work inside a cross-site frame with third-party cookies blocked: no session, no CSRF cookie (a
signed form token and a per-address throttle instead, see tokens.py), nothing cached.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from consult.models import ParticipantRole
from consult.selectors import zone_of
from consult.services import SlotTakenError, participant_link

from . import selectors, services, tokens
from .forms import BookingForm, WalkInForm
from .framing import framable
from .models import BookingWidget, WalkInWidget

STATUS_REFUSED = 409  # the choice was taken or is gone: a fresh list comes with the message


def _widget(request, model, key):
    if request.organization is None:
        raise Http404
    widget = selectors.widget_by_key(model, key)
    if widget is None:
        raise Http404
    _use_page_language(request)
    return widget


def _use_page_language(request):
    """`?lang=nl`: the embedding page says its language (the organisation's own pages always do). A framed
    widget has no cookie to remember a choice, and the visitor's browser language may differ from the page's."""
    language = request.GET.get("lang", "")
    request.widget_language = language if language in dict(settings.LANGUAGES) else ""
    if request.widget_language:
        translation.activate(request.widget_language)
        request.LANGUAGE_CODE = request.widget_language


def _is_top_level(request):
    # A navigation in a tab of its own, not in a frame: then the camera can be asked for straight away.
    return request.headers.get("Sec-Fetch-Dest") == "document"


def _on_this_host(request, url):
    """A link on the organisation's host as this visitor reached it (its public address may differ behind a
    test server or a proxy's port)."""
    return request.build_absolute_uri(urlsplit(url).path)


def _base_context(widget, request, preview=False):
    language = getattr(request, "widget_language", "")
    return {"widget": widget, "organization": widget.organization, "preview": preview,
            "zone": zone_of(widget.organization),
            # the widget's own links and forms keep the page's language
            "widget_url": widget.get_absolute_url() + (f"?lang={language}" if language else ""),
            "lang_param": f"&lang={language}" if language else "",
            "widget_language": language}


def _refusal(request, widget, message, status):
    return render(request, "widgets/refused.html", {**_base_context(widget, request), "refusal": message},
                  status=status)


# --- walk-in ------------------------------------------------------------------------------------

def _walk_in_context(widget, request, form=None, message="", preview=False):
    groups = selectors.available_now(widget)
    if form is None:
        form = WalkInForm(widget=widget, initial={"token": tokens.form_token(widget)})
    return {**_base_context(widget, request, preview), "groups": groups, "form": form, "message": message,
            "chosen": request.POST.get("practitioner", "")}


@framable
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def walk_in(request, key):
    widget = _widget(request, WalkInWidget, key)
    template = "widgets/walk_in.html"
    if request.method == "GET":
        return render(request, template, _walk_in_context(widget, request))
    if tokens.throttled(request):
        return _refusal(request, widget, _(
            "There have been too many attempts from your connection. Please wait ten minutes and try again."
        ), 429)
    if not tokens.token_is_valid(widget, request.POST.get("token")):
        return render(request, template, _walk_in_context(widget, request, message=_(
            "This page was open for a long time. Please check your choice and send it again."
        )), status=400)
    form = WalkInForm(request.POST, widget=widget)
    if not form.is_valid():
        return render(request, template, _walk_in_context(widget, request, form=form), status=400)
    department_id, practitioner_id = form.cleaned_data["practitioner"]
    try:
        _appointment, link = services.walk_in_start(
            widget=widget, practitioner_id=practitioner_id, department_id=department_id, details=form.details(),
            request=request,
        )
    except ValidationError as error:
        message = " ".join(error.messages)
        fresh = WalkInForm(widget=widget, initial={**form.cleaned_data, "token": tokens.form_token(widget)})
        return render(request, template, _walk_in_context(widget, request, form=fresh, message=message),
                      status=STATUS_REFUSED)
    link = _on_this_host(request, link)
    if _is_top_level(request):
        return redirect(link)
    return render(request, "widgets/walk_in_done.html", {**_base_context(widget, request), "link": link})


@framable
@never_cache
@require_GET
def walk_in_available(request, key):
    """The list of who is available now, polled by widget.js every 15 seconds."""
    widget = _widget(request, WalkInWidget, key)
    return render(request, "widgets/includes/walk_in_list.html", {
        **_base_context(widget, request), "groups": selectors.available_now(widget),
        "chosen": request.GET.get("chosen", ""),
    })


# --- booking ------------------------------------------------------------------------------------

def _slots_context(widget, request, message="", preview=False):
    return {**_base_context(widget, request, preview), "days": selectors.free_slots_by_day(widget),
            "message": message}


@framable
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def booking(request, key):
    widget = _widget(request, BookingWidget, key)
    template = "widgets/booking.html"
    taken = _("This time was just booked; pick another.")
    if request.method == "GET":
        chosen = request.GET.get("slot")
        if not chosen:
            return render(request, template, _slots_context(widget, request))
        slot, practitioner = selectors.find_slot(widget, chosen)
        if slot is None:
            return render(request, template, _slots_context(widget, request, message=taken), status=STATUS_REFUSED)
        form = BookingForm(widget=widget, initial={"token": tokens.form_token(widget), "slot": chosen})
        return render(request, "widgets/booking_details.html", {
            **_base_context(widget, request), "form": form, "slot": slot, "practitioner": practitioner,
        })
    if tokens.throttled(request):
        return _refusal(request, widget, _(
            "There have been too many attempts from your connection. Please wait ten minutes and try again."
        ), 429)
    form = BookingForm(request.POST, widget=widget)
    token_ok = tokens.token_is_valid(widget, request.POST.get("token"))
    slot, practitioner = selectors.find_slot(widget, request.POST.get("slot"))
    if slot is None:
        return render(request, template, _slots_context(widget, request, message=taken), status=STATUS_REFUSED)
    if not token_ok:
        # Keep what the visitor typed; a fresh token lets them send it again.
        form = BookingForm(widget=widget, initial={**request.POST.dict(), "token": tokens.form_token(widget)})
        message = _("This page was open for a long time. Please check your details and send them again.")
        return render(request, "widgets/booking_details.html", {
            **_base_context(widget, request), "form": form, "slot": slot, "practitioner": practitioner,
            "message": message,
        }, status=400)
    if not form.is_valid():
        return render(request, "widgets/booking_details.html", {
            **_base_context(widget, request), "form": form, "slot": slot, "practitioner": practitioner,
        }, status=400)
    try:
        appointment = services.booking_make(widget=widget, slot_value=form.cleaned_data["slot"],
                                            details=form.details(), request=request)
    except SlotTakenError:
        return render(request, template, _slots_context(widget, request, message=taken), status=STATUS_REFUSED)
    participant = appointment.participants.get(role=ParticipantRole.CLIENT)
    return render(request, "widgets/booking_done.html", {
        **_base_context(widget, request), "appointment": appointment, "practitioner": practitioner,
        "starts_at": appointment.starts_at.astimezone(zone_of(widget.organization)),
        "emailed": bool(appointment.client.email) and not widget.organization.do_not_send_emails,
        "link": _on_this_host(request, participant_link(participant)),
    })


# --- the admin's live preview (PreviewableMixin) ------------------------------------------------

def preview_context(widget, request):
    if isinstance(widget, WalkInWidget):
        return _walk_in_context(widget, request, preview=True)
    return _slots_context(widget, request, preview=True)

