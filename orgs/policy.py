"""Who may see and do what. The only place that decides it.

Views, consumers, admin viewsets, tasks and the API ask these functions; none of them repeats a
rule. `member` is the request's Membership (see `OrganizationAccessMiddleware`); platform staff giving
remote support act as an employee, whose Membership is then marked `is_remote_support` (orgs/remote_support.py).

Patient records (clients, appointments, questionnaire answers, chats) all follow one visibility
rule, `can_view_record` / `record_visibility_q`:
- never across organisations;
- organisation admins see everything in their organisation;
- with *strictly segregated clients*, a practitioner sees only records they are the practitioner of;
- with *strictly segregated departments*, practitioners and department admins see records of their
  own departments (and records they are the practitioner of);
- otherwise every employee of the organisation sees them.
"""

from datetime import timedelta

from django.db.models import Q

from .models import Membership, Role

# --- signing in and areas -------------------------------------------------------------------

def can_sign_in(user, organization):
    """May `user` sign in on `organization`'s host (None: the platform's own host)?"""
    if user is None or not user.is_active:
        return False
    if organization is None:
        return user.is_superuser
    # Platform staff enter an organisation only through remote support, as one of its employees (F-ORG-10).
    return Membership.objects.with_scopes_disabled().filter(
        organization=organization, user=user, is_active=True, organization__is_active=True
    ).exists()


def can_use_portal(member):
    return member is not None and member.is_active


def can_use_admin(member):
    return member is not None and member.is_active and member.role == Role.ORG_ADMIN


def can_manage_organization(member):
    """Settings, departments, employees, web pages, media, audit log: organisation admins."""
    return can_use_admin(member)


can_manage_departments = can_manage_organization
can_manage_employees = can_manage_organization
can_edit_settings = can_manage_organization
can_view_audit_log = can_manage_organization


# --- two-factor authentication (F-AUTH-3) ----------------------------------------------------

def has_two_factor(user):
    """An authenticator app or a security key; recovery codes alone are no second factor."""
    from allauth.mfa.models import Authenticator

    if user is None or not user.is_authenticated:
        return False
    return Authenticator.objects.filter(
        user_id=user.pk, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def must_set_up_two_factor(member):
    """Must this signed-in member set up two-factor authentication before using the portal or admin?

    Everyone signed in on an organisation that requires it (platform staff included) who has none yet.
    """
    from .models import TwoFactorPolicy

    if member is None or member.organization.two_factor_policy != TwoFactorPolicy.REQUIRED:
        return False
    if getattr(member, "is_remote_support", False):
        return False  # platform staff acting as the employee confirmed with their own second factor
    return not has_two_factor(member.user)


def should_remind_two_factor(member):
    """After signing in: remind an employee without two-factor authentication where it is allowed."""
    from .models import TwoFactorPolicy

    if member is None or member.pk is None or member.organization.two_factor_policy != TwoFactorPolicy.ALLOWED:
        return False
    return not has_two_factor(member.user)


def can_disable_two_factor_of(member, employee):
    """Remove another employee's authenticators (a lost phone): organisation admins of that organisation.

    Not their own (they deactivate it in My profile, after re-authenticating), and not of someone who also
    signs in elsewhere (see `two_factor_reaches_beyond`)."""
    return (
        can_manage_employees(member) and not getattr(member, "is_remote_support", False)
        and employee is not None and employee.organization_id == member.organization_id
        and employee.user_id != member.user_id
        and not two_factor_reaches_beyond(employee)
    )


def two_factor_reaches_beyond(employee):
    """A person's authenticators protect every organisation they work for (one account, one email): an admin of
    one organisation must not remove the second factor another organisation relies on, nor that of platform
    staff. Only platform support resets those."""
    return employee.user.is_superuser or Membership.objects.with_scopes_disabled().filter(
        user_id=employee.user_id, is_active=True
    ).exclude(organization_id=employee.organization_id).exists()


def can_add_two_factor(member):
    """Activate an authenticator app or add a security key: not where the organisation does not offer it
    (platform staff, with no organisation of their own, always may)."""
    from .models import TwoFactorPolicy

    return member is None or member.pk is None or member.organization.two_factor_policy != TwoFactorPolicy.OFF


def can_manage_api_keys(member):
    """Create, rotate and revoke API keys: organisation admins (an API key never manages keys), in person: a key
    made during remote support would outlast the session's time limit."""
    return (can_manage_organization(member) and not getattr(member, "is_api_key", False)
            and not getattr(member, "is_remote_support", False))


def can_manage_sign_in_providers(member):
    """Single sign-on providers: organisation admins in person (a provider set up during remote support would
    let its author sign in after the session ends)."""
    return can_manage_organization(member) and not getattr(member, "is_remote_support", False)


def can_view_usage_reports(member):
    """The organisation's usage reports (F-USAGE-1): organisation admins. Department admins and practitioners
    do not: the figures cover every department and name every practitioner."""
    return can_manage_organization(member)


def can_manage_plan(user):
    """The plan (max users, departments) is set by platform staff only."""
    return user.is_superuser


# --- departments and colleagues -------------------------------------------------------------

def member_department_ids(member):
    if member is None or member.pk is None:
        return set()
    cached = getattr(member, "_department_ids", None)
    if cached is None:
        # Through the M2M table (no scoped manager): the policy must also answer outside a request scope.
        through = Membership.departments.through
        cached = set(through.objects.filter(membership_id=member.pk).values_list("department_id", flat=True))
        member._department_ids = cached
    return cached


def sees_whole_organization(member):
    return member.role == Role.ORG_ADMIN or not member.organization.strict_departments


def visible_departments(member, queryset):
    queryset = queryset.filter(organization_id=member.organization_id)
    if sees_whole_organization(member):
        return queryset
    return queryset.filter(pk__in=member_department_ids(member))


def can_view_department(member, department):
    if department.organization_id != member.organization_id:
        return False
    return sees_whole_organization(member) or department.pk in member_department_ids(member)


def visible_employees(member, queryset):
    """Colleagues `member` may see in lists (and pick as practitioner)."""
    queryset = queryset.filter(organization_id=member.organization_id)
    if sees_whole_organization(member):
        return queryset
    return queryset.filter(
        Q(pk=member.pk) | Q(role=Role.ORG_ADMIN) | Q(departments__in=member_department_ids(member))
    ).distinct()


# --- patient records ------------------------------------------------------------------------

def can_view_record(member, *, organization_id, department_ids=(), practitioner_user_ids=()):
    """May `member` see a patient record that belongs to these departments and practitioners?"""
    if member is None or not member.is_active or member.organization_id != organization_id:
        return False
    if member.role == Role.ORG_ADMIN:
        return True
    organization = member.organization
    is_own = member.user_id in set(practitioner_user_ids)
    if organization.strict_clients and member.role == Role.PRACTITIONER:
        return is_own
    if organization.strict_departments:
        return is_own or bool(member_department_ids(member) & set(department_ids))
    return True


def record_visibility_q(member, *, department_field, practitioner_field, organization_field="organization"):
    """The same rule as `can_view_record`, as a filter for a queryset of records."""
    in_org = Q(**{organization_field: member.organization_id})
    if member.role == Role.ORG_ADMIN:
        return in_org
    organization = member.organization
    is_own = Q(**{practitioner_field: member.user_id})
    if organization.strict_clients and member.role == Role.PRACTITIONER:
        return in_org & is_own
    if organization.strict_departments:
        return in_org & (is_own | Q(**{f"{department_field}__in": member_department_ids(member)}))
    return in_org


def can_be_appointment_target(member, *, with_department):
    """Appointments can be made with a department only when departments are strictly segregated."""
    return member.organization.strict_departments if with_department else True


# --- clients and appointments (the patient-record rule applied to concrete models) -------------

def visible_clients(member, queryset):
    q = record_visibility_q(member, department_field="department", practitioner_field="practitioners")
    return queryset.filter(q).distinct()


def can_view_client(member, client):
    return can_view_record(
        member, organization_id=client.organization_id,
        department_ids=[client.department_id] if client.department_id else [],
        practitioner_user_ids=client.practitioners.through.objects.filter(client_id=client.pk).values_list(
            "user_id", flat=True),
    )


def visible_appointments(member, queryset):
    q = record_visibility_q(member, department_field="department", practitioner_field="practitioner__user")
    return queryset.filter(q)


def can_view_appointment(member, appointment):
    practitioner_user_ids = [appointment.practitioner.user_id] if appointment.practitioner_id else []
    return can_view_record(
        member, organization_id=appointment.organization_id,
        department_ids=[appointment.department_id] if appointment.department_id else [],
        practitioner_user_ids=practitioner_user_ids,
    )


def can_act_live(member):
    """Patient-facing live actions (calling in from the waiting room, holding consults, quick consults, the
    walk-in switch): employees themselves, never platform staff giving remote support as them."""
    return member is not None and member.pk is not None and not getattr(member, "is_remote_support", False)


def can_hold_consult(member, appointment):
    """Start, join and end the consult of an appointment: employees who may see it (platform staff
    giving remote support look, they do not hold consults)."""
    return can_act_live(member) and can_view_appointment(member, appointment)


def can_change_appointment(member, appointment):
    """Move, cancel or edit: only in agendas `member` may book in (seeing an appointment is not enough)."""
    if not can_view_appointment(member, appointment):
        return False
    if appointment.practitioner_id is None:
        return member.role in (Role.ORG_ADMIN, Role.DEPARTMENT_ADMIN)
    return can_schedule_for(member, appointment.practitioner)


def can_schedule_for(member, practitioner):
    """May `member` put appointments (and availability) in `practitioner`'s agenda?"""
    if practitioner is None or practitioner.organization_id != member.organization_id or not practitioner.is_active:
        return False
    if member.pk == practitioner.pk or member.role == Role.ORG_ADMIN:
        return True
    if member.role == Role.PRACTITIONER and member.organization.strict_clients:
        return False
    if member.organization.strict_departments:
        theirs = set(Membership.departments.through.objects.filter(membership_id=practitioner.pk)
                     .values_list("department_id", flat=True))
        return bool(member_department_ids(member) & theirs)
    return True


def can_manage_agenda(member, practitioner):
    """Own agenda; department admins and org admins for the practitioners they may schedule for."""
    if member.pk == practitioner.pk:
        return True
    return member.role in (Role.ORG_ADMIN, Role.DEPARTMENT_ADMIN) and can_schedule_for(member, practitioner)


def sees_remaining_slots(member):
    """The top bar's "3 booking slots left today": practitioners, when their organisation switched it on.

    Admins keep agendas for others; a count of their own would mislead.
    """
    return (
        member is not None and member.pk is not None and member.is_active and member.role == Role.PRACTITIONER
        and member.organization.show_remaining_slots
    )


def can_manage_announcements(member, department=None):
    """Organisation admins for everyone; department admins for their own departments only."""
    if member is None or not member.is_active:
        return False
    if member.role == Role.ORG_ADMIN:
        return department is None or department.organization_id == member.organization_id
    if member.role == Role.DEPARTMENT_ADMIN:
        return department is not None and department.pk in member_department_ids(member)
    return False


def can_manage_email_texts(member):
    return can_manage_organization(member)


# --- questionnaires (F-FORM-2, F-FORM-6) --------------------------------------------------------

def visible_questionnaires(member, queryset):
    """Questionnaires `member` may send: those of their departments and those for every department.

    A questionnaire's departments hold in every organisation, strictly segregated or not: they say who
    sends it (a physiotherapy intake is not for the GPs); organisation admins may send any."""
    queryset = queryset.filter(organization_id=member.organization_id)
    if member.role == Role.ORG_ADMIN:
        return queryset
    return queryset.filter(Q(departments__isnull=True) | Q(departments__in=member_department_ids(member))).distinct()


def can_send_questionnaire(member, questionnaire):
    if member is None or not member.is_active or questionnaire.organization_id != member.organization_id:
        return False
    if member.role == Role.ORG_ADMIN:
        return True
    departments = set(questionnaire.departments.values_list("pk", flat=True))
    return not departments or bool(departments & member_department_ids(member))


def visible_answers(member, queryset):
    """Questionnaire answers are part of the patient record: visible with the client or the appointment."""
    by_client = record_visibility_q(member, department_field="client__department",
                                    practitioner_field="client__practitioners")
    by_appointment = record_visibility_q(member, department_field="appointment__department",
                                         practitioner_field="appointment__practitioner__user")
    return queryset.filter(by_client | by_appointment).distinct()


def can_view_answers(member, response):
    if member is None or response.organization_id != member.organization_id:
        return False
    if can_view_client(member, response.client):
        return True
    return response.appointment_id is not None and can_view_appointment(member, response.appointment)


# --- payments (F-PAY) ---

def can_manage_payments(member):
    """Rates, VAT rules, the payments list and its export: organisation admins."""
    return can_manage_organization(member)


def can_change_payment_credentials(member):
    """Turn payments on and enter provider keys: organisation admins in person (keys entered during remote
    support would send the organisation's money wherever their author chose)."""
    return can_manage_organization(member) and not getattr(member, "is_remote_support", False)


def can_set_appointment_rate(member, appointment=None):
    """Mark an appointment paid and choose its rate (F-PAY-2): department admins (for appointments they may
    change) and organisation admins; never platform staff giving remote support as them."""
    if member is None or member.role not in (Role.ORG_ADMIN, Role.DEPARTMENT_ADMIN) or not can_act_live(member):
        return False
    return appointment is None or can_change_appointment(member, appointment)


def can_view_payments(member, appointment):
    """An appointment's payment records: whoever may see the appointment."""
    return can_view_appointment(member, appointment)


# --- chat (F-CHAT) -------------------------------------------------------------------------------
# A client channel is part of the client's record (`can_view_client`), and within it belongs to its care
# team: the practitioner of the pair, colleagues who joined, the client's (or the channel's) department,
# and organisation admins. Public channels (the site's chat widget) are answered by whoever
# `can_answer_public_chat`.

def _is_active_member(member):
    return member is not None and member.pk is not None and member.is_active


# The appointment link is a bearer URL without a PIN, so its chat is bounded to the appointment: from the booking
# until this long after the link's window closes (time to read the practice's answer after a consult, and to ask
# a question the next day). After that the conversation goes on in the patient portal, behind its PIN.
LINK_CHAT_AFTER_WINDOW = timedelta(hours=24)


def can_chat_from_link(organization, participant):
    """Whether this appointment link's holder has the appointment's chat at all (F-CHAT-4): only where "chat in the
    waiting room" is on, only the appointment's own client (extra participants have links but the conversation is
    the client's), never for a cancelled or anonymised appointment. When: `link_chat_ends_at`."""
    appointment = participant.appointment
    return bool(
        organization.chat_in_waiting_room and appointment.client_id is not None
        and participant.person_id == appointment.client_id
        and appointment.status != "cancelled" and appointment.anonymised_at is None
    )


def link_chat_ends_at(organization, appointment):
    from consult.links import Window

    return Window(appointment, organization).closes_at + LINK_CHAT_AFTER_WINDOW


def can_answer_public_chat(member):
    """Organisation and department admins (the manual: department admins answer the website's chat). Not
    practitioners: every visitor's question would count in every practitioner's unread badge."""
    return _is_active_member(member) and member.role in (Role.ORG_ADMIN, Role.DEPARTMENT_ADMIN)


def _has_joined_channel(member, channel):
    from chat.models import ChannelMember

    return ChannelMember.objects.with_scopes_disabled().filter(channel_id=channel.pk, member_id=member.pk).exists()


def _channel_department_ids(channel):
    return {d for d in (channel.department_id, channel.client.department_id if channel.client_id else None) if d}


def can_view_channel(member, channel):
    if not _is_active_member(member) or channel.organization_id != member.organization_id:
        return False
    if channel.kind == "public":
        return can_answer_public_chat(member)
    if not can_view_client(member, channel.client):
        return False
    if member.role == Role.ORG_ADMIN or channel.practitioner_id == member.pk:
        return True
    if _channel_department_ids(channel) & member_department_ids(member):
        return True
    return _has_joined_channel(member, channel)


def visible_channels(member, queryset):
    """The channels `can_view_channel` allows, as a filter (no joins: the result needs no distinct())."""
    from chat.models import ChannelMember
    from consult.models import Client

    if not _is_active_member(member):
        return queryset.none()
    queryset = queryset.filter(organization_id=member.organization_id)
    clients = visible_clients(member, Client.objects.with_scopes_disabled()).values("pk")
    client_channels = Q(kind="client", client_id__in=clients)
    if member.role != Role.ORG_ADMIN:
        departments = member_department_ids(member)
        joined = ChannelMember.objects.with_scopes_disabled().filter(member_id=member.pk).values("channel_id")
        client_channels &= (Q(practitioner_id=member.pk) | Q(pk__in=joined) | Q(department_id__in=departments)
                            | Q(client__department_id__in=departments))
    if can_answer_public_chat(member):
        return queryset.filter(client_channels | Q(kind="public"))
    return queryset.filter(client_channels)


def _may_answer_in_person(member, channel):
    # Who may read the channel, in person (platform staff giving remote support only look).
    return can_act_live(member) and can_view_channel(member, channel)


def can_post_in_channel(member, channel):
    """Answer in a channel: who may read it, in person, and never into a client channel whose client's access
    is revoked (the client cannot read anything sent after the revocation, so a message there reaches nobody).
    A channel closed after a consult still takes staff messages: the client reads them when it opens again."""
    if channel.kind == "client" and not channel.client_access:
        return False
    return _may_answer_in_person(member, channel)


def can_join_channel(member, channel):
    """A practitioner joins a colleague's channel with a client they may see ("join" on the client record)."""
    if not _is_active_member(member) or not can_act_live(member) or member.role != Role.PRACTITIONER:
        return False
    if channel.kind != "client" or channel.organization_id != member.organization_id:
        return False
    if channel.practitioner_id == member.pk or not can_view_client(member, channel.client):
        return False
    return not _has_joined_channel(member, channel)


def joinable_channels(member, queryset):
    """The channels `can_join_channel` allows, as a filter (list icons offer "join" without a query per row)."""
    from chat.models import ChannelMember
    from consult.models import Client

    if not _is_active_member(member) or not can_act_live(member) or member.role != Role.PRACTITIONER:
        return queryset.none()
    clients = visible_clients(member, Client.objects.with_scopes_disabled()).values("pk")
    joined = ChannelMember.objects.with_scopes_disabled().filter(member_id=member.pk).values("channel_id")
    return (queryset.filter(organization_id=member.organization_id, kind="client", client_id__in=clients)
            .exclude(practitioner_id=member.pk).exclude(pk__in=joined))


def can_create_channel(member, client, practitioner):
    """A channel by hand ("create chat channel with …"): practitioners for themselves, department admins for
    practitioners of the client's department, organisation admins for anyone; never for a client out of sight."""
    if not _is_active_member(member) or client is None or practitioner is None:
        return False
    if client.organization_id != member.organization_id or practitioner.organization_id != member.organization_id:
        return False
    if not practitioner.is_active or client.is_external or not can_view_client(member, client):
        return False
    if member.role == Role.ORG_ADMIN or practitioner.pk == member.pk:
        return True
    if member.role == Role.DEPARTMENT_ADMIN and client.department_id:
        theirs = set(Membership.departments.through.objects.filter(membership_id=practitioner.pk)
                     .values_list("department_id", flat=True))
        return client.department_id in member_department_ids(member) and client.department_id in theirs
    return False


def can_manage_chat_access(member, channel):
    """Grant and revoke a client's chat access (F-CHAT-3): organisation admins, and department admins of the
    channel's or the client's department."""
    if not _is_active_member(member) or channel.kind != "client" or channel.organization_id != member.organization_id:
        return False
    if member.role == Role.ORG_ADMIN:
        return True
    return member.role == Role.DEPARTMENT_ADMIN and bool(_channel_department_ids(channel)
                                                         & member_department_ids(member))


def can_delete_chat_history(member, channel):
    """Delete a channel's history (F-CHAT-5): whoever may answer in it (practitioner, colleagues, admins);
    every deletion is audited. Also on a channel whose client's access is revoked, where nobody writes: the
    history may still have to go."""
    return _may_answer_in_person(member, channel)
