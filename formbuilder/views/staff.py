"""Staff and questionnaire answers: read them (page, PDF, text, pictures) and send questionnaires.

Every read goes through `formbuilder.selectors.get_response_for` (another organisation's or a segregated
colleague's answers are a 404, with nothing logged) and writes exactly one audit row: who, which answers,
whose they are and in what capacity the reader acted (F-FORM-7). Nothing here may be cached.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from consult import selectors as consult_selectors
from consult.emails import questionnaire_request_on_commit
from consult.forms import questionnaire_choices
from formbuilder.models import Questionnaire
from orgs.selectors import member_capacity
from orgs.services import audit_record
from portal.access import member_required

from .. import export, selectors, services
from ..models import ResponseUpload


def _audit(request, response, action):
    audit_record(organization=request.organization, actor=request.user, action=action, target=response,
                 subject=response.client.display_name, acting_for=member_capacity(request.membership), request=request)


def _private(http_response):
    http_response["Cache-Control"] = "private, no-store"
    return http_response


def _download(response, content, content_type, extension):
    """An attachment named after the questionnaire and client, never cached."""
    stem = slugify(f"{response.title} {response.client.display_name}")[:80] or "answers"
    download = HttpResponse(content, content_type=content_type)
    download["Content-Disposition"] = content_disposition_header(True, f"{stem}.{extension}")
    return _private(download)


@member_required
def answers_view(request, response_id):
    response = selectors.get_response_for(request.membership, response_id)
    answers = services.answers_open(response)
    page = render(request, "formbuilder/staff/answers.html", {
        "response": response,
        "facts": export.response_facts(response),
        "rows": export.answer_rows(response, answers) if export.has_answers(response) else [],
        "has_answers": export.has_answers(response),
    })
    _audit(request, response, "answers.view")
    return _private(page)


@member_required
def answers_pdf(request, response_id):
    response = selectors.get_response_for(request.membership, response_id)
    pdf = export.as_pdf(response, services.answers_open(response))
    _audit(request, response, "answers.pdf")
    return _download(response, pdf, "application/pdf", "pdf")


@member_required
def answers_text(request, response_id):
    response = selectors.get_response_for(request.membership, response_id)
    text = export.as_text(response, services.answers_open(response))
    _audit(request, response, "answers.text")
    return _download(response, text.encode("utf-8"), "text/plain; charset=utf-8", "txt")


@member_required
def answers_image(request, response_id, upload_uuid):
    response = selectors.get_response_for(request.membership, response_id)
    upload = ResponseUpload.objects.with_scopes_disabled().filter(
        organization_id=response.organization_id, response=response, uuid=upload_uuid).first()
    if upload is None:
        raise Http404
    data = services.upload_open(upload)
    _audit(request, response, "answers.image")
    image = HttpResponse(data, content_type=upload.content_type)
    image["X-Content-Type-Options"] = "nosniff"
    image["Content-Disposition"] = "inline"
    return _private(image)


# --- sending ------------------------------------------------------------------------------------

class QuestionnaireSendForm(forms.Form):
    questionnaires = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Questionnaires"), queryset=Questionnaire.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("The client gets an email with a link to their patient portal."),
        error_messages={"required": gettext_lazy("Choose at least one questionnaire.")},
    )
    appointment = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, member, **kwargs):
        kwargs.setdefault("auto_id", "q-send-%s")
        super().__init__(*args, **kwargs)
        self.can_send = questionnaire_choices(self.fields["questionnaires"], member)


def send_form_for(member, *, appointment=None):
    """The "Send a questionnaire" form, or None when `member` has nothing to send."""
    form = QuestionnaireSendForm(member=member,
                                 initial={"appointment": appointment.pk if appointment is not None else None})
    return form if form.can_send else None


@member_required
@require_POST
def questionnaires_send(request, client_id):
    member = request.membership
    client = consult_selectors.client_for(member, client_id)
    if client is None or client.is_external:
        raise Http404
    form = QuestionnaireSendForm(request.POST, member=member)
    appointment = None
    if form.is_valid() and form.cleaned_data["appointment"]:
        appointment = consult_selectors.appointment_for(member, form.cleaned_data["appointment"])
        if appointment is None or appointment.client_id != client.pk:
            raise Http404
    back = (redirect("portal:appointment_detail", appointment.pk) if appointment is not None
            else redirect("portal:client_detail", client.pk))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return back
    try:
        with transaction.atomic():
            responses = services.questionnaires_send(
                member=member, client=client, questionnaires=list(form.cleaned_data["questionnaires"]),
                appointment=appointment, request=request)
            questionnaire_request_on_commit(client=client, responses=responses, appointment=appointment)
    except ValidationError as error:
        for error_message in error.messages:
            messages.error(request, error_message)
        return back
    except PermissionDenied:
        raise Http404
    titles = ", ".join(response.title for response in responses)
    if request.organization.do_not_send_emails or not client.email:
        messages.success(request, _("Sent: %(titles)s. No email went out: give the client their portal link "
                                    "yourself.") % {"titles": titles})
    else:
        messages.success(request, _("Sent: %(titles)s. The client has been emailed a link to their portal.")
                         % {"titles": titles})
    return back
