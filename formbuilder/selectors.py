"""Reads of questionnaires and answers. Every lookup by id is scoped and checked; a foreign id is a 404."""

from django.http import Http404

from orgs import policy

from .models import Questionnaire, QuestionnaireResponse


def questionnaires_for(member):
    """What `member` may send, one entry per translation group (the version in the organisation's language
    when there is one), so the appointment form lists "Medical history" once, not four times."""
    questionnaires = list(policy.visible_questionnaires(member, Questionnaire.objects.all())
                          .prefetch_related("departments"))
    preferred = member.organization.default_language
    chosen = {}
    for questionnaire in questionnaires:
        current = chosen.get(questionnaire.translation_key)
        if current is None or (questionnaire.language == preferred and current.language != preferred):
            chosen[questionnaire.translation_key] = questionnaire
    return sorted(chosen.values(), key=lambda q: q.title.lower())


def answers_visible_to(member):
    return policy.visible_answers(member, QuestionnaireResponse.objects.all())


def responses_for_client(member, client):
    return answers_visible_to(member).filter(client=client).select_related("appointment")


def responses_for_appointment(member, appointment):
    return answers_visible_to(member).filter(appointment=appointment)


def get_response_for(member, response_id):
    """Answers by id for an employee, or 404 (also when they exist but are not theirs to see)."""
    response = (QuestionnaireResponse.objects.filter(pk=response_id)
                .select_related("client", "appointment__practitioner").first())
    if response is None or not policy.can_view_answers(member, response):
        raise Http404
    return response


def responses_for_patient(client_ids):
    """A signed-in client's questionnaires (the portal's session names its client records)."""
    return QuestionnaireResponse.objects.filter(client_id__in=client_ids).select_related("appointment")


def get_response_for_patient(client_ids, response_id):
    response = responses_for_patient(client_ids).filter(pk=response_id).first()
    if response is None:
        raise Http404
    return response
