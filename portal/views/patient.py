"""The patient portal on /patient/ of the organisation's host (F-PORTAL-1,2,3). Patients have no accounts:
they sign in with a PIN emailed to them, or by scanning a QR code; portal/patient_session.py keeps who.

Every page is `never_cache` (Cache-Control: no-store): nothing a patient saw stays in a shared cache or
in the installable app's cache.
"""

import datetime
import hashlib
import json
import time
from functools import wraps

from django import forms
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from consult import links
from consult.models import Appointment, AppointmentParticipant, AppointmentStatus
from consult.selectors import zone_of
from formbuilder.forms import answer_fields
from formbuilder.models import ResponseStatus
from formbuilder.selectors import responses_for_patient
from formbuilder.services import answers_open

from .. import patient_session, services
from ..patient_links import client_id_from_link
from ..patient_session import ENDED, HINT, PENDING

THEME_COLOUR = "#1d4ed8"


def _address(request):
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def organization_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.organization is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def patient_required(view):
    """A signed-in patient (request.patient); others go to the sign-in page."""

    @wraps(view)
    @never_cache
    @organization_required
    def wrapper(request, *args, **kwargs):
        request.patient = patient_session.current(request)
        if request.patient is None:
            return redirect("patient:home")
        return view(request, *args, **kwargs)

    return wrapper


def _hint(request):
    hint = request.session.get(HINT)
    if isinstance(hint, dict) and hint.get("org") == request.organization.pk:
        return hint.get("client")
    return None


def _until_text(until):
    local = timezone.localtime(datetime.datetime.fromtimestamp(until, tz=datetime.UTC))
    return local.strftime("%H:%M")


def _throttled(request, template, context, error):
    context = {**context, "throttle_message": _(
        "Too many attempts from here. For your safety, please try again after %(time)s."
    ) % {"time": _until_text(error.until)}}
    return render(request, template, context, status=429)


# --- signing in --------------------------------------------------------------------------------------

class PinRequestForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Your email address"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    date_of_birth = forms.DateField(label=gettext_lazy("Or your date of birth"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"},
                                                           format="%Y-%m-%d"))

    def __init__(self, *args, with_date_of_birth=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_date_of_birth:
            del self.fields["date_of_birth"]
            self.fields["email"].required = True

    def clean(self):
        data = super().clean()
        if "date_of_birth" in self.fields and not data.get("email") and not data.get("date_of_birth") \
                and not self.errors:
            raise forms.ValidationError(_("Enter your email address or your date of birth."))
        return data


class PinForm(forms.Form):
    pin = forms.CharField(label=gettext_lazy("The 6-digit code from the email"), max_length=12, widget=forms.TextInput(
        attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*", "class": "pin-input"}))


def _sign_in_page(request, form=None, status=200, extra=None):
    hint = _hint(request)
    ended = request.session.pop(ENDED, None)
    context = {
        "form": form or PinRequestForm(with_date_of_birth=hint is not None),
        "has_hint": hint is not None,
        "ended": ended,
        "idle_minutes": request.organization.patient_session_minutes,
        **(extra or {}),
    }
    return render(request, "patient/sign_in.html", context, status=status)


@never_cache
@organization_required
def start(request, value):
    """The personal portal link: remember which client it names (a hint), then the clean address."""
    client_id = client_id_from_link(request.organization, value)
    if client_id is None:
        return render(request, "patient/link_invalid.html", status=404)
    if patient_session.current(request, touch=False) is None:
        request.session[HINT] = {"org": request.organization.pk, "client": client_id}
        request.session.pop(PENDING, None)
    return redirect("patient:home")


@never_cache
@organization_required
def home(request):
    patient = patient_session.current(request)
    if patient is None:
        return _sign_in_page(request)
    return _home(request, patient)


@never_cache
@organization_required
@require_POST
def sign_in(request):
    """Ask for a PIN. The answer is the same redirect whether or not the details matched anything."""
    hint = _hint(request)
    form = PinRequestForm(request.POST, with_date_of_birth=hint is not None)
    if not form.is_valid():
        return _sign_in_page(request, form)
    email, date_of_birth = form.cleaned_data.get("email", ""), form.cleaned_data.get("date_of_birth")
    try:
        client, scope = services.pin_request(organization=request.organization, address=_address(request),
                                             hint_client_id=hint, email=email, date_of_birth=date_of_birth)
    except services.ThrottledError as error:
        return _throttled(request, "patient/sign_in.html", {
            "form": form, "has_hint": hint is not None}, error)
    request.session[PENDING] = {
        "org": request.organization.pk, "client": client.pk if client is not None else None, "scope": scope,
        "to": email if email and not date_of_birth else "", "at": time.time(),
    }
    return redirect("patient:code")


def _pending(request):
    """What the PIN page checks against: the last request (matched or not), or, from a portal link's
    "I already have a code", the client the link named."""
    hint = _hint(request)
    if hint is not None and request.GET.get("have") == "1":
        request.session[PENDING] = {"org": request.organization.pk, "client": hint, "scope": services.SCOPE_CLIENT,
                                    "to": "", "at": time.time()}
    pending = request.session.get(PENDING)
    if isinstance(pending, dict) and pending.get("org") == request.organization.pk:
        return pending
    return None


@never_cache
@organization_required
def code(request):
    """Type the PIN from the email."""
    if patient_session.current(request, touch=False) is not None:
        return redirect("patient:home")
    pending = _pending(request)
    if pending is None:
        return redirect("patient:home")
    form = PinForm(request.POST or None)
    context = {"form": form, "pending": pending, "minutes": services.pin_minutes(request.organization),
               "has_hint": _hint(request) is not None}
    if request.method == "POST" and form.is_valid():
        try:
            client_ids = services.pin_check(organization=request.organization, client_id=pending.get("client"),
                                            scope=pending.get("scope"), pin=form.cleaned_data["pin"],
                                            address=_address(request))
        except services.ThrottledError as error:
            return _throttled(request, "patient/code.html", context, error)
        if client_ids:
            patient_session.sign_in(request, client_ids)
            return redirect("patient:home")
        form.add_error("pin", _("This code is not right, or it is no longer valid. Check the code in the email, "
                                "or ask for a new one."))
    return render(request, "patient/code.html", context)


@never_cache
@organization_required
@require_POST
def sign_out(request):
    patient_session.sign_out(request)
    return redirect("patient:home")


# --- QR codes ----------------------------------------------------------------------------------------

@never_cache
@organization_required
def qr(request, token):
    """A scanned QR code: a page that signs its client in with one tap (a POST), or says why it cannot.

    Opening the address changes nothing: a mail program's link checker does not use the code up, and a
    link to someone's code sent to a signed-in employee cannot sign them out or into that patient."""
    access_code = services.access_code_find(request.organization, token)
    if access_code is None or not request.organization.client_app_enabled:
        return render(request, "patient/qr_invalid.html", {"reason": "unknown"}, status=404)
    if not access_code.is_valid or access_code.client.is_external:
        reason = "revoked" if access_code.revoked_at else "expired"
        return render(request, "patient/qr_invalid.html", {"reason": reason}, status=410)
    if request.user.is_authenticated:
        return render(request, "patient/qr_confirm.html", {"staff_signed_in": True}, status=409)
    if request.method == "POST":
        services.access_code_use(access_code)
        patient_session.sign_in(request, [access_code.client_id], access_code=access_code)
        return redirect("patient:home")
    return render(request, "patient/qr_confirm.html", {"staff_signed_in": False})


# --- signed in ---------------------------------------------------------------------------------------

def _progress(response):
    fields = answer_fields(response.questions)
    if not fields:
        return 100
    if response.status == ResponseStatus.NEW or response.answers is None:
        return 0
    answers = answers_open(response)
    answered = sum(1 for q in fields if answers.get(q["clean_name"]) not in (None, "", [], False))
    return round(100 * answered / len(fields))


def patient_appointments(client_ids):
    return (Appointment.objects.filter(Q(client_id__in=client_ids) | Q(participants__person_id__in=client_ids))
            .filter(anonymised_at__isnull=True)
            .select_related("practitioner__user", "department").distinct().order_by("starts_at"))


def _home(request, patient):
    organization = request.organization
    zone = zone_of(organization)
    now = timezone.now()
    upcoming, past = [], []
    for appointment in patient_appointments(patient.client_ids):
        window = links.Window(appointment, organization)
        state = window.state(now)
        item = {
            "appointment": appointment,
            "starts_at": appointment.starts_at.astimezone(zone),
            "opens_at": window.opens_at.astimezone(zone),
            "with": (appointment.practitioner.user.get_full_name() if appointment.practitioner_id
                     else appointment.department.name if appointment.department_id else organization.name),
            "cancelled": appointment.status == AppointmentStatus.CANCELLED,
            "can_enter": state == links.Window.OPEN and appointment.status not in (
                AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED),
        }
        is_past = state == links.Window.TOO_LATE or appointment.status == AppointmentStatus.COMPLETED
        if not is_past and not item["cancelled"] and appointment.client_id in patient.client_ids:
            from payments.selectors import payment_due

            item["payment_due"] = payment_due(appointment, organization)
        (past if is_past else upcoming).append(item)
    past.reverse()
    to_fill, finished = [], []
    for response in responses_for_patient(patient.client_ids).select_related("client"):
        item = {"response": response, "progress": _progress(response)}
        (finished if response.is_finished else to_fill).append(item)
    from consult.models import Client

    clients = list(Client.objects.filter(pk__in=patient.client_ids))
    return render(request, "patient/home.html", {
        "clients": clients, "upcoming": upcoming, "past": past[:20], "to_fill": to_fill, "finished": finished,
        "several": len(clients) > 1, "signed_in": True,
    })


@patient_required
def waiting_room(request, appointment_id):
    """"Open the waiting room": the same session a personal appointment link starts (consult/views.py)."""
    from consult.views import enter_participant_session

    participant = (AppointmentParticipant.objects.select_related("appointment")
                   .filter(appointment_id=appointment_id, person_id__in=request.patient.client_ids).first())
    if participant is None:
        raise Http404
    appointment = participant.appointment
    if appointment.status == AppointmentStatus.CANCELLED or appointment.anonymised_at:
        raise Http404
    enter_participant_session(request, participant)
    if request.GET.get("pay"):
        return redirect("payments:pay")  # it sends them on to the appointment when there is nothing to pay
    return redirect("consult:appointment")


# --- the installable app -----------------------------------------------------------------------------

@organization_required
def manifest(request):
    organization = request.organization
    data = {
        "name": organization.name,
        "short_name": organization.name[:12],
        "description": _("Your appointments and questionnaires at %(organisation)s") % {
            "organisation": organization.name},
        "start_url": reverse("patient:home"),
        "scope": reverse("patient:home"),
        "id": reverse("patient:home"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "lang": request.LANGUAGE_CODE,
        "icons": [
            {"src": static("patient/icons/icon-192.png"), "sizes": "192x192", "type": "image/png",
             "purpose": "any maskable"},
            {"src": static("patient/icons/icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "any maskable"},
        ],
    }
    response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response


SHELL_FILES = ("css/app.css", "patient/patient.css", "patient/patient.js", "patient/icons/icon-192.png",
               "patient/icons/icon-512.png")


@organization_required
def service_worker(request):
    shell = [static(name) for name in SHELL_FILES] + [reverse("patient:offline")]
    version = "patient-shell-" + hashlib.sha256("\n".join(shell).encode()).hexdigest()[:12]
    response = render(request, "patient/sw.js", {"shell": json.dumps(shell), "version": json.dumps(version)},
                      content_type="text/javascript")
    response["Service-Worker-Allowed"] = reverse("patient:home")
    response["Cache-Control"] = "no-cache"
    return response


@organization_required
def offline(request):
    """The page the app shows without a network: no patient data, so it may be cached."""
    return render(request, "patient/offline.html")

