"""Writes for questionnaires and answers. Every function validates before it writes, in one transaction.

Answers are a JSON object {question name: value} sealed as a whole (formbuilder/crypto.py); images are
sealed files referenced from it. Nothing here writes clear text to the database or the disk.
"""

import datetime
import decimal
import json
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs import policy

from . import crypto
from .forms import answer_fields
from .models import Questionnaire, QuestionnaireResponse, ResponseStatus, ResponseUpload

# --- sending questionnaires ------------------------------------------------------------------

def version_for_language(questionnaire, language):
    """The version of `questionnaire` in `language` when its translation group has one, else itself."""
    if questionnaire.language == language:
        return questionnaire
    sibling = (
        Questionnaire.objects.with_scopes_disabled()
        .filter(organization_id=questionnaire.organization_id, translation_key=questionnaire.translation_key,
                language=language)
        .first()
    )
    return sibling or questionnaire


def responses_create(*, member, client, questionnaires, appointment=None):
    """Give `client` a copy of each questionnaire (in their language where there is one), status "new".

    Callers check who may send (see `questionnaires_send`); this only writes. Returns the responses.
    """
    organization = client.organization
    responses = []
    for questionnaire in questionnaires:
        if questionnaire.organization_id != organization.pk:
            raise ValidationError({"questionnaires": _("Choose questionnaires of your own organisation.")})
        version = version_for_language(questionnaire, client.language)
        if member is not None and not policy.can_send_questionnaire(member, version):
            version = questionnaire  # the client's language version is for other departments: send the one chosen
        responses.append(QuestionnaireResponse.objects.with_scopes_disabled().create(
            organization=organization, questionnaire=version, title=version.title, intro=version.intro,
            language=version.language or client.language, questions=version.snapshot(), client=client,
            appointment=appointment,
            sent_by=member.user if member is not None and member.user_id else None,
        ))
    return responses


def questionnaires_send(*, member, client, questionnaires, appointment=None, request=None):
    """Staff send questionnaires from a client record or appointment (F-FORM-3)."""
    if not policy.can_view_client(member, client):
        raise PermissionDenied
    if appointment is not None and (appointment.client_id != client.pk
                                    or not policy.can_view_appointment(member, appointment)):
        raise PermissionDenied
    for questionnaire in questionnaires:
        if not policy.can_send_questionnaire(member, questionnaire):
            raise ValidationError({"questionnaires": _("You cannot send “%(title)s”.") % {
                "title": questionnaire.title}})
    if not questionnaires:
        raise ValidationError({"questionnaires": _("Choose at least one questionnaire.")})
    with transaction.atomic():
        responses = responses_create(member=member, client=client, questionnaires=questionnaires,
                                     appointment=appointment)
        from orgs.services import audit_record

        for response in responses:
            audit_record(organization=client.organization, actor=member.user, action="questionnaire.send",
                         target=response, request=request)
    return responses


# --- answers -----------------------------------------------------------------------------------

def _json_value(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return value


def answers_open(response):
    """The answers as a dict (empty when none yet). Callers that show them to staff audit the read."""
    if response.answers is None:
        return {}
    return json.loads(crypto.unseal(response.answers, context=response.seal_context))


def _seal_answers(response, answers):
    response.answers = crypto.seal(json.dumps(answers, ensure_ascii=False).encode(), context=response.seal_context)
    response.key_id = crypto.newest_key_id()


def _store_upload(response, name, upload):
    record = ResponseUpload(organization_id=response.organization_id, response=response, field_name=name,
                            content_type=upload.image_content_type, size=upload.size,
                            key_id=crypto.newest_key_id())
    upload.seek(0)
    sealed = crypto.seal(upload.read(), context=record.seal_context)
    record.file.save("upload.bin", ContentFile(sealed), save=False)
    record.save()
    return record


def upload_open(upload):
    with upload.file.open("rb") as handle:
        return crypto.unseal(handle.read(), context=upload.seal_context)


def missing_required(response, answers):
    return [q for q in answer_fields(response.questions)
            if q["required"] and answers.get(q["clean_name"]) in (None, "", [], False)]


@contextmanager
def _files_removed_on_failure():
    """Collects (storage, name) of the sealed files a write stores; if the write fails, its rows roll back
    and these files are deleted, so nothing is left behind on disk either."""
    written = []
    try:
        yield written
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise


def _answers_merge(response_id, organization, cleaned_data, step_names, finish, written):
    response = (QuestionnaireResponse.objects.with_scopes_disabled().select_for_update()
                .get(pk=response_id, organization=organization))
    if response.status == ResponseStatus.FINISHED:
        raise ValidationError(_("You already sent this questionnaire; it can no longer be changed."))
    known = {q["clean_name"] for q in answer_fields(response.questions)}
    if not step_names <= known:
        raise ValidationError(_("These questions are not part of this questionnaire."))
    answers = answers_open(response)
    new_pictures = {}
    for name in step_names:
        if name not in cleaned_data:
            continue
        value = cleaned_data[name]
        if getattr(value, "image_content_type", None):
            new_pictures[name] = value
            answers[name] = {"upload": "", "name": value.name[:200], "content_type": value.image_content_type}
        elif value is None and isinstance(answers.get(name), dict):
            continue  # an empty file input keeps the picture sent earlier
        else:
            answers[name] = _json_value(value)
    now = timezone.now()
    if finish:  # checked before any picture is stored
        missing = missing_required(response, answers)
        if missing:
            raise ValidationError(
                _("Some required questions have no answer yet: %(questions)s.")
                % {"questions": "; ".join(q["label"] for q in missing)}
            )
        response.status = ResponseStatus.FINISHED
        response.finished_at = now
    elif response.status == ResponseStatus.NEW:
        response.status = ResponseStatus.STARTED
    response.started_at = response.started_at or now
    replaced = ResponseUpload.objects.with_scopes_disabled().filter(response=response, field_name__in=new_pictures)
    stale = list(replaced)
    for name, picture in new_pictures.items():
        record = _store_upload(response, name, picture)
        written.append((record.file.storage, record.file.name))
        answers[name]["upload"] = str(record.uuid)
    _seal_answers(response, answers)
    response.save(update_fields=["answers", "key_id", "status", "started_at", "finished_at", "updated_at"])
    for upload in stale:
        transaction.on_commit(lambda name=upload.file.name, storage=upload.file.storage: storage.delete(name))
        upload.delete()
    return response


def response_save(*, response_id, organization, cleaned_data, questions, finish=False):
    """Save the answers of one step (`questions`, cleaned by their form) and, with `finish`, send it in.

    The row is locked while its answers are opened, merged and sealed again, so two tabs (or a key
    rotation running meanwhile) never lose each other's writes. A finished questionnaire is read only.
    Raises ValidationError with nothing written (no row, no file).
    """
    step_names = {q["clean_name"] for q in answer_fields(questions)}
    with _files_removed_on_failure() as written, transaction.atomic():
        return _answers_merge(response_id, organization, cleaned_data, step_names, finish, written)


# --- key rotation -----------------------------------------------------------------------------

def response_reseal(response_id):
    """Seal one response's answers (and its uploads) under the newest key. True when something changed.

    The old files go only after the commit; the new ones go again if the transaction fails."""
    newest = crypto.newest_key_id()
    changed = False
    with _files_removed_on_failure() as written, transaction.atomic():
        response = QuestionnaireResponse.objects.with_scopes_disabled().select_for_update().get(pk=response_id)
        if response.answers is not None and response.key_id != newest:
            _seal_answers(response, answers_open(response))
            response.save(update_fields=["answers", "key_id"])
            changed = True
        uploads = (ResponseUpload.objects.with_scopes_disabled().filter(response=response)
                   .exclude(key_id=newest).select_related("response"))
        for upload in uploads:
            data = upload_open(upload)
            old_name = upload.file.name
            upload.file.save("upload.bin", ContentFile(crypto.seal(data, context=upload.seal_context)), save=False)
            written.append((upload.file.storage, upload.file.name))
            upload.key_id = newest
            upload.save(update_fields=["file", "key_id"])
            transaction.on_commit(lambda name=old_name, storage=upload.file.storage: storage.delete(name))
            changed = True
    return changed


# --- editing questionnaires -------------------------------------------------------------------
# The organisation admin's editor (F-FORM-1). The views hand over a Questionnaire whose questions the
# editor's form has set in memory (modelcluster); these functions validate it all, then write and audit.

def _choice_list(choices):
    separator = "\n" if "\n" in (choices or "") else ","
    return [choice.strip() for choice in (choices or "").split(separator) if choice.strip()]


def questions_validate(questions):
    """Refuse a set of questions a client could not answer sensibly. `questions`: objects with label,
    field_type, choices and (for saved ones) clean_name. Raises ValidationError listing every problem."""
    from wagtail.contrib.forms.utils import get_field_clean_name

    from .models import CHOICE_TYPES, DISPLAY_ONLY_TYPES

    errors = []
    if not any(question.field_type not in DISPLAY_ONLY_TYPES for question in questions):
        errors.append(_("Add at least one question that takes an answer: titles and paragraphs only show text."))
    seen_names, seen_labels = {}, set()
    for question in questions:
        label = (question.label or "").strip()
        # A saved question keeps the name its answers are stored under, even when its label changes.
        name = getattr(question, "clean_name", "") or get_field_clean_name(label)
        if not name:
            errors.append(_("“%(label)s” needs at least one letter or digit in its label.") % {"label": label})
            continue
        if question.field_type in CHOICE_TYPES and not _choice_list(question.choices):
            errors.append(_("“%(label)s” needs choices: one per line.") % {"label": label})
        if label.casefold() in seen_labels:
            errors.append(_("Two questions are labelled “%(label)s”. Give each question its own label.")
                          % {"label": label})
        elif name in seen_names:
            errors.append(_("“%(label)s” and “%(other)s” would be stored under the same name. Give one of "
                            "them a different label.") % {"label": label, "other": seen_names[name]})
        seen_labels.add(label.casefold())
        seen_names.setdefault(name, label)
    if errors:
        raise ValidationError(errors)


def _questionnaire_validate(questionnaire, departments):
    questions = list(questionnaire.fields.all())
    questionnaire.full_clean(exclude=["organization", "departments"])
    for question in questions:
        question.full_clean(exclude=["questionnaire", "sort_order", "clean_name"])
    questions_validate(questions)
    if departments is not None and any(d.organization_id != questionnaire.organization_id for d in departments):
        raise ValidationError({"departments": _("Choose departments of your own organisation.")})


def _departments_set(questionnaire, departments):
    # Through the link table: no query on the (scoped) departments, so it also works outside a request.
    links = Questionnaire.departments.through
    links.objects.filter(questionnaire=questionnaire).delete()
    links.objects.bulk_create([links(questionnaire=questionnaire, department_id=getattr(d, "pk", d))
                               for d in departments])


def questionnaire_create(*, organization, actor, questionnaire, departments=(), request=None):
    """Save a new questionnaire (with the questions set on it in memory) for `organization`."""
    from orgs.services import audit_record

    questionnaire.organization = organization
    departments = list(departments)
    _questionnaire_validate(questionnaire, departments)
    with transaction.atomic():
        questionnaire.save()  # a ClusterableModel saves its questions with it
        _departments_set(questionnaire, departments)
        audit_record(organization=organization, actor=actor, action="questionnaire.create", target=questionnaire,
                     changes={"title": [None, questionnaire.title]}, request=request)
    return questionnaire


def questionnaire_update(*, organization, actor, questionnaire, departments=None, changes=None, request=None):
    """Save an edited questionnaire. Answers already given keep the questions they were sent with."""
    from orgs.services import audit_record

    if questionnaire.pk is None or questionnaire.organization_id != organization.pk:
        raise PermissionDenied
    if departments is not None:
        departments = list(departments)
    _questionnaire_validate(questionnaire, departments)
    with transaction.atomic():
        questionnaire.save()
        if departments is not None:
            _departments_set(questionnaire, departments)
        audit_record(organization=organization, actor=actor, action="questionnaire.update", target=questionnaire,
                     changes=changes, request=request)
    return questionnaire


def questionnaire_delete(*, organization, actor, questionnaire, request=None):
    """Delete a questionnaire and its questions. Answers stay: each keeps its own copy of the questions."""
    from orgs.services import audit_record

    if questionnaire.organization_id != organization.pk:
        raise PermissionDenied
    with transaction.atomic():
        audit_record(organization=organization, actor=actor, action="questionnaire.delete", target=questionnaire,
                     request=request)
        questionnaire.delete()


def questionnaire_duplicate(*, organization, actor, questionnaire, request=None):
    """A full copy with all its questions, titled "… (copy)", in a translation group of its own."""
    from orgs.services import audit_record

    from .models import QuestionnaireField

    if questionnaire.organization_id != organization.pk:
        raise PermissionDenied
    template = _("%(title)s (copy)")
    room = Questionnaire._meta.get_field("title").max_length - len(template % {"title": ""})
    title = template % {"title": questionnaire.title[:room]}
    with transaction.atomic():
        copy = Questionnaire(organization=organization, title=title, intro=questionnaire.intro,
                             language=questionnaire.language)
        copy.save()
        QuestionnaireField.objects.bulk_create([
            QuestionnaireField(questionnaire=copy, sort_order=field.sort_order,
                               clean_name=field.clean_name or field.get_field_clean_name(), label=field.label,
                               field_type=field.field_type, required=field.required, choices=field.choices,
                               default_value=field.default_value, help_text=field.help_text)
            for field in QuestionnaireField.objects.filter(questionnaire=questionnaire).order_by("sort_order", "pk")
        ])
        links = Questionnaire.departments.through.objects.filter(questionnaire=questionnaire)
        _departments_set(copy, list(links.values_list("department_id", flat=True)))
        audit_record(organization=organization, actor=actor, action="questionnaire.copy", target=copy,
                     changes={"title": [questionnaire.title, copy.title]}, request=request)
    return copy
