"""Demo agenda, clients and appointments for `manage.py demo` (idempotent)."""

from datetime import date, time, timedelta

from django.utils import timezone

from orgs.models import Membership, Role
from orgs.scoping import organization_scope

from . import services
from .models import Availability, AvailabilityKind, Client, ParticipantGroup
from .selectors import bookable_slots, zone_of

CLIENTS = [
    # initials, first, last, born, email, language, client number
    ("J.", "Jan", "de Boer", date(1958, 3, 14), "jan.deboer@example.com", "nl", "P-1001"),
    ("L.M.", "Lotte", "Mulder", date(1990, 7, 2), "lotte.mulder@example.com", "nl", "P-1002"),
    ("A.", "Anna", "Schmidt", date(1976, 11, 23), "anna.schmidt@example.com", "de", "P-1003"),
    ("C.", "Carlos", "García", date(1984, 5, 9), "carlos.garcia@example.com", "es", "P-1004"),
    ("S.", "Sophie", "Williams", date(2001, 1, 30), "sophie.williams@example.com", "en", "P-1005"),
]


def consult_demo(organization):
    from payments.demo import payments_demo

    payments_demo(organization)
    services.default_email_set_create(organization=organization)
    services.default_participant_groups_create(organization=organization)
    with organization_scope(organization):
        if Client.objects.exists():
            return
        practitioners = list(Membership.objects.filter(role=Role.PRACTITIONER, is_active=True)
                             .select_related("user", "organization"))
        admin = Membership.objects.filter(role=Role.ORG_ADMIN).select_related("user", "organization").first()
        if not practitioners or admin is None:
            return
        monday = timezone.localdate(timezone=zone_of(organization))
        monday -= timedelta(days=monday.weekday())
        for practitioner in practitioners:
            services.availability_save(member=admin, availability=Availability(
                practitioner=practitioner, kind=AvailabilityKind.BOOKING, date=monday, start_time=time(9, 0),
                end_time=time(12, 0), rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", consult_minutes=20,
                break_minutes=10))
            services.availability_save(member=admin, availability=Availability(
                practitioner=practitioner, kind=AvailabilityKind.BOOKING, date=monday, start_time=time(13, 30),
                end_time=time(16, 0), rrule="FREQ=WEEKLY;BYDAY=MO,TU,TH", consult_minutes=20, break_minutes=10))
            services.availability_save(member=admin, availability=Availability(
                practitioner=practitioner, kind=AvailabilityKind.WALK_IN, date=monday + timedelta(days=2),
                start_time=time(14, 0), end_time=time(16, 0), rrule="FREQ=WEEKLY;BYDAY=WE"))
        departments = {d.pk: d for p in practitioners for d in p.departments.all()}
        clients = []
        for index, (initials, first, last, born, email, language, number) in enumerate(CLIENTS):
            practitioner = practitioners[index % len(practitioners)]
            department = practitioner.departments.first() or next(iter(departments.values()), None)
            clients.append(services.client_create(
                member=admin, initials=initials, first_name=first, last_name=last, date_of_birth=born,
                email=email, language=language, client_number=number, department=department,
            ))
        family = ParticipantGroup.objects.order_by("pk").first()
        guest = services.client_create(member=admin, is_external=True, groups=[family] if family else (),
                                       initials="M.", first_name="Marieke", last_name="de Boer",
                                       email="marieke.deboer@example.com", language="nl")
        today = timezone.localdate(timezone=zone_of(organization))
        for index, client in enumerate(clients):
            practitioner = practitioners[index % len(practitioners)]
            free = bookable_slots(organization, [practitioner], today, today + timedelta(days=14))
            for slot in free[index * 3:index * 3 + 2]:  # two real, free slots each, spread over the coming days
                services.appointment_create(
                    member=admin, client=client, practitioner=practitioner, starts_at=slot.starts_at,
                    guests=[guest] if index == 0 else (),
                    personal_message="Please have your medication list at hand." if index == 1 else "",
                )


def consult_now_link(organization, practitioner_email):
    """A patient link that opens the waiting room right now, for trying a consult from `make run`:
    an appointment with the practitioner starting within minutes (reused while its link is open)."""
    from . import links
    from .models import Appointment, AppointmentParticipant, AppointmentStatus

    now = timezone.now()
    with organization_scope(organization):
        practitioner = Membership.objects.select_related("organization", "user").filter(
            user__email=practitioner_email).first()
        admin = Membership.objects.filter(role=Role.ORG_ADMIN).select_related("user", "organization").first()
        client = Client.objects.filter(is_external=False).order_by("pk").first()
        if practitioner is None or admin is None or client is None:
            return None
        appointment = Appointment.objects.filter(
            practitioner=practitioner, client=client, status=AppointmentStatus.SCHEDULED,
            starts_at__gte=now - timedelta(minutes=organization.consult_link_closes_minutes - 10),
            starts_at__lte=now + timedelta(minutes=30)).order_by("starts_at").first()
        if appointment is None:
            start = now.replace(second=0, microsecond=0) + timedelta(minutes=5 - now.minute % 5)
            try:
                appointment = services.appointment_create(member=admin, client=client, practitioner=practitioner,
                                                          starts_at=start, duration_minutes=10)
            except services.SlotTakenError:
                return None
        participant = AppointmentParticipant.objects.filter(appointment=appointment, role="client").first()
        return links.link_url(organization, links.token_for(participant.token_nonce))
