"""Questionnaires in the demo: the standard medical history sent to every client with their next appointment,
and the switches that show them in the client app and the waiting room."""

from django.utils import timezone

from consult.models import Appointment, AppointmentStatus
from orgs.models import Organization
from orgs.scoping import organization_scope

from .models import Questionnaire, QuestionnaireResponse
from .services import responses_create


def questionnaire_demo(organization):
    """Once per demo database: later runs leave what the demo user changed alone."""
    with organization_scope(organization):
        if QuestionnaireResponse.objects.exists():
            return
        Organization.objects.filter(pk=organization.pk).update(client_app_enabled=True,
                                                               questionnaire_in_waiting_room=True)
        anamnesis = Questionnaire.objects.filter(is_default=True).order_by("pk").first()
        if anamnesis is None:
            return
        upcoming = (Appointment.objects.filter(status=AppointmentStatus.SCHEDULED, starts_at__gt=timezone.now(),
                                               client__is_external=False)
                    .select_related("client", "practitioner__user", "department").order_by("client_id", "starts_at"))
        seen = set()
        for appointment in upcoming:
            if appointment.client_id in seen:
                continue
            seen.add(appointment.client_id)
            responses_create(member=None, client=appointment.client, questionnaires=[anamnesis],
                             appointment=appointment)
