"""Filling a questionnaire in the patient portal, or from the waiting room (F-FORM-3,4).

Shown in steps (a title question starts one); each step is saved as the patient goes: with the buttons,
and as they type (portal/static/patient/patient.js posts the step to `autosave`, which saves the fields
that are valid and skips the others). A finished questionnaire is read back, never changed. Uploaded
pictures are never served on this side: the patient sees only the file's name.
"""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from consult import links
from consult.models import AppointmentParticipant
from consult.views import SESSION_PARTICIPANT, SESSION_TOKEN, entry_allowed, link_state
from formbuilder.forms import answer_fields, form_class_for, questionnaire_steps
from formbuilder.selectors import get_response_for_patient
from formbuilder.services import answers_open, response_save

from .. import patient_session


def _waiting_room_participant(request):
    """The participant of this browser's waiting-room session, when questionnaires may be filled there.

    Only while their link lets them into the waiting room (window open, not cancelled, disclaimer
    accepted, paid): outside it, the appointment link is no key to the answers; the portal asks for a PIN."""
    organization = request.organization
    if not organization.questionnaire_in_waiting_room:
        return None
    participant_id = request.session.get(SESSION_PARTICIPANT)
    if not participant_id:
        return None
    participant = AppointmentParticipant.objects.select_related("appointment").filter(pk=participant_id).first()
    if participant is None or participant.person_id is None \
            or request.session.get(SESSION_TOKEN) != participant.token_hash:
        return None
    if link_state(participant.appointment, organization) != links.Window.OPEN \
            or not entry_allowed(request.session, participant, organization):
        return None
    return participant


def response_access(view):
    """The response (request.questionnaire_response) for a signed-in patient, or for the waiting room's
    participant when it belongs to their appointment; 404 for any other id."""

    @wraps(view)
    @never_cache
    def wrapper(request, response_id, *args, **kwargs):
        if request.organization is None:
            raise Http404
        patient = patient_session.current(request)
        request.from_waiting_room = False
        if patient is not None:
            response = get_response_for_patient(patient.client_ids, response_id)
        else:
            participant = _waiting_room_participant(request)
            if participant is None:
                if request.method == "POST" and request.headers.get("X-Autosave"):
                    return JsonResponse({"saved": False, "reason": "signed_out"}, status=403)
                return redirect("patient:home")
            response = get_response_for_patient([participant.person_id], response_id)
            if response.appointment_id != participant.appointment_id or response.is_finished:
                raise Http404  # sent answers are read back only after signing in with a PIN
            request.from_waiting_room = True
        request.questionnaire_response = response
        return view(request, *args, **kwargs)

    return wrapper


def _empty(value):
    return value in (None, "", [], False)


def _initial(questions, answers):
    initial = {}
    for question in answer_fields(questions):
        value = answers.get(question["clean_name"])
        if value is None or isinstance(value, dict):  # pictures: shown by name only
            continue
        initial[question["clean_name"]] = value
    return initial


def _first_open_step(steps, answers):
    """Where to pick up: the first step with an unanswered required question (else one with any unanswered
    question, else the last)."""
    for wanted in (lambda q: q["required"], lambda q: True):
        for index, step in enumerate(steps):
            if any(wanted(q) and _empty(answers.get(q["clean_name"])) for q in answer_fields(step)):
                return index
    return len(steps) - 1


def _step_number(request, steps, answers):
    raw = request.POST.get("step") if request.method == "POST" else request.GET.get("step")
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return _first_open_step(steps, answers)
    return min(max(number, 1), len(steps)) - 1


def _describe(form):
    """Link each input to its error and help text (aria-describedby) and mark errors aria-invalid."""
    for bound in form:
        ids = []
        if bound.errors:
            ids.append(f"{bound.auto_id}_error")
            bound.field.widget.attrs["aria-invalid"] = "true"
        if bound.help_text:
            ids.append(f"{bound.auto_id}_helptext")
        if ids:
            bound.field.widget.attrs["aria-describedby"] = " ".join(ids)
    return form


def _uploaded_names(step, answers):
    return {q["clean_name"]: answers[q["clean_name"]].get("name", "")
            for q in step if isinstance(answers.get(q["clean_name"]), dict)}


def _back_url(request):
    return reverse("consult:appointment") if request.from_waiting_room else reverse("patient:home")


@response_access
def fill(request):
    response = request.questionnaire_response
    steps = questionnaire_steps(response.questions) or [[]]
    answers = answers_open(response)
    if response.is_finished:
        return _read_back(request, response, answers)
    index = _step_number(request, steps, answers)
    step = steps[index]
    form_class = form_class_for(step)
    if request.method == "POST":
        action = request.POST.get("action", "next")
        form = form_class(request.POST, request.FILES)
        for name in _uploaded_names(step, answers):
            form.fields[name].required = False  # a picture sent earlier stays unless another is chosen
        if action in ("back", "later"):
            # Leaving the step never asks for required answers: keep what is valid, as the autosave does.
            try:
                _save_partial(response, form, step)
            except ValidationError as error:
                for text in error.messages:
                    messages.error(request, text)
                return redirect(request.path)
            if action == "back":
                return redirect(f"{request.path}?step={max(index, 1)}")
            messages.success(request, _("Your answers are saved. You can finish the questionnaire later."))
            return redirect(_back_url(request))
        if form.is_valid():
            finish = action == "send" and index == len(steps) - 1
            try:
                response_save(response_id=response.pk, organization=request.organization,
                              cleaned_data=form.cleaned_data, questions=step, finish=finish)
            except ValidationError as error:
                for text in error.messages:
                    messages.error(request, text)
                return redirect(f"{request.path}?step={index + 1}")
            if finish:
                messages.success(request, _("Thank you. Your answers have been sent."))
                return redirect(request.path)
            return redirect(f"{request.path}?step={min(index + 2, len(steps))}")
    else:
        form = form_class(initial=_initial(step, answers))
    _describe(form)
    uploaded = _uploaded_names(step, answers)
    return render(request, "patient/questionnaire.html", {
        "response": response, "form": form, "step_number": index + 1, "step_count": len(steps),
        "progress": round(100 * (index + 1) / len(steps)), "is_last": index == len(steps) - 1,
        "fields": [(bound, uploaded.get(bound.name, "")) for bound in form],
        "back_url": _back_url(request), "signed_in": not request.from_waiting_room,
        "from_waiting_room": request.from_waiting_room,
    })


def _save_partial(response, form, step):
    """Save the step's valid fields without asking for required ones; invalid fields are skipped."""
    for field in form.fields.values():
        field.required = False
    form.is_valid()  # cleaned_data then holds exactly the fields that are valid
    data = {name: value for name, value in form.cleaned_data.items()
            if not (getattr(form.fields[name], "is_image_upload", False) and value is None)}
    return response_save(response_id=response.pk, organization=response.organization, cleaned_data=data,
                         questions=step, finish=False)


@require_POST
@response_access
def autosave(request):
    """The step as it is being typed (patient.js): valid fields saved, invalid ones skipped, no pictures."""
    response = request.questionnaire_response
    if response.is_finished:
        return JsonResponse({"saved": False, "reason": "finished"}, status=409)
    steps = questionnaire_steps(response.questions) or [[]]
    try:
        index = min(max(int(request.POST.get("step", "")), 1), len(steps)) - 1
    except ValueError:
        return JsonResponse({"saved": False, "reason": "step"}, status=400)
    step = [q for q in steps[index] if q["field_type"] != "image"]
    form = form_class_for(step)(request.POST)
    try:
        _save_partial(response, form, step)
    except ValidationError:
        return JsonResponse({"saved": False, "reason": "refused"}, status=409)
    skipped = sorted(form.errors)
    return JsonResponse({"saved": True, "skipped": skipped, "at": timezone.localtime().strftime("%H:%M")})


def _display(question, value):
    if _empty(value) and value is not False:
        return ""
    if isinstance(value, dict):
        return value.get("name", "")
    if question["field_type"] == "checkbox":
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if question["field_type"] == "country":
        from django_countries import countries

        return countries.name(value) or value
    return str(value)


def _read_back(request, response, answers):
    rows = []
    for question in response.questions:
        if question["field_type"] in ("title", "paragraph"):
            rows.append({"kind": question["field_type"], "label": question["label"]})
            continue
        rows.append({"kind": "answer", "label": question["label"], "picture": question["field_type"] == "image",
                     "value": _display(question, answers.get(question["clean_name"]))})
    return render(request, "patient/questionnaire_done.html", {
        "response": response, "rows": rows, "back_url": _back_url(request), "signed_in": not request.from_waiting_room,
        "from_waiting_room": request.from_waiting_room,
    })


def waiting_room_questionnaires(organization, participant):
    """The appointment's questionnaires the waiting client can still fill in (when the switch is on)."""
    if not organization.questionnaire_in_waiting_room or participant.person_id is None:
        return []
    from formbuilder.models import ResponseStatus
    from formbuilder.selectors import responses_for_patient

    return list(responses_for_patient([participant.person_id]).filter(appointment_id=participant.appointment_id)
                .exclude(status=ResponseStatus.FINISHED).order_by("created_at"))
