"""Helpers of the chat core tests (services, selectors, policy, retention, notifications)."""

from datetime import timedelta

from django.utils import timezone

from chat.models import Channel, Message
from consult import services as consult_services
from orgs.models import Membership, Organization, Role
from orgs.scoping import scopes_disabled
from orgs.services import employee_create


def member(org, key):
    """The membership as a request loads it: with its organisation's current settings."""
    return Membership.objects.with_scopes_disabled().select_related("organization", "user").get(
        pk=org.people[key].pk)


def switch(org, **settings):
    Organization.objects.filter(pk=org.pk).update(**settings)
    for name, value in settings.items():
        setattr(org, name, value)


def make_client(org, last_name="Verhoeven", department="gp", email=None):
    with scopes_disabled():
        return consult_services.client_create(
            member=member(org, "admin"), initials="R.", first_name="Rosa", last_name=last_name,
            email=email or f"{last_name.lower()}@example.test", language="en",
            department=org.departments_by_name[department] if department else None)


def book(org, client, practitioner_key="gp", minutes=60, department=None):
    with scopes_disabled():
        return consult_services.appointment_create(
            member=member(org, "admin"), client=client,
            practitioner=org.people[practitioner_key] if practitioner_key else None,
            department=org.departments_by_name[department] if department else None,
            starts_at=timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=minutes))


def channel_of(org, client, practitioner_key="gp"):
    return Channel.objects.with_scopes_disabled().select_related(
        "organization", "client__organization", "practitioner__user", "department").get(
        organization=org, client=client, practitioner=org.people[practitioner_key] if practitioner_key else None)


def reload(channel):
    return Channel.objects.with_scopes_disabled().select_related(
        "organization", "client__organization", "practitioner__user", "department").get(pk=channel.pk)


def messages_of(channel):
    return list(Message.objects.with_scopes_disabled().filter(channel_id=channel.pk).order_by("created_at", "pk"))


def extra_employee(org, key, role=Role.PRACTITIONER, department="gp"):
    with scopes_disabled():
        membership = employee_create(
            organization=org, actor=None, email=f"{key}@{org.subdomain}.test", first_name=key.title(),
            last_name="Extra", role=role, departments=[org.departments_by_name[department]] if department else [],
            send_invitation=False)
    org.people[key] = membership
    return member(org, key)
