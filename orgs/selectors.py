"""Reads for organisations, scoped and filtered by the policy."""

from django.db.models import Count, Q

from . import policy
from .models import AuditEvent, Department, Membership, Organization


def organization_for_host(hostname):
    """The active organisation served on `hostname`, or None."""
    from django.conf import settings

    suffix = f".{settings.BASE_DOMAIN}"
    if not hostname.endswith(suffix):
        return None
    subdomain = hostname[: -len(suffix)]
    if not subdomain or "." in subdomain:
        return None
    return (
        Organization.objects.select_related("site", "root_page", "logo")
        .filter(subdomain=subdomain, is_active=True)
        .first()
    )


def membership_for(user, organization):
    if not user.is_authenticated or organization is None:
        return None
    return (
        Membership.objects.with_scopes_disabled()
        .select_related("organization", "user")
        .filter(organization=organization, user=user, is_active=True)
        .first()
    )


def departments_for(member):
    return policy.visible_departments(member, Department.objects.all()).annotate(
        employee_count=Count("members", filter=Q(members__is_active=True), distinct=True)
    )


def employees_for(member):
    return policy.visible_employees(member, Membership.objects.select_related("user").prefetch_related("departments"))


def employee_for(member, membership_id):
    """One employee the member may see, by id, or None (another organisation's id included)."""
    return employees_for(member).select_related("organization").filter(pk=membership_id).first()


def audit_events_for(member):
    if not policy.can_view_audit_log(member):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(organization_id=member.organization_id).select_related("actor")


def plan_usage(organization):
    """What the organisation uses of its plan, for the "My package" page."""
    active_users = Membership.objects.with_scopes_disabled().filter(organization=organization, is_active=True).count()
    departments = Department.objects.with_scopes_disabled().filter(organization=organization).count()
    return {
        "plan_name": organization.plan_name,
        "users": active_users,
        "max_users": organization.max_users,
        "users_left": max(organization.max_users - active_users, 0),
        "users_percent": min(100, round(100 * active_users / organization.max_users)) if organization.max_users else 0,
        "departments": departments,
        "max_departments": organization.max_departments,
        "departments_percent": (
            min(100, round(100 * departments / organization.max_departments)) if organization.max_departments else None
        ),
    }


def member_capacity(member):
    """The capacity an employee acts in, for the audit log: role and departments, or remote support."""
    from django.utils.translation import gettext as _

    if member.pk is None or getattr(member, "is_remote_support", False):
        return _("remote support")
    role = str(member.get_role_display())
    names = list(Department.objects.with_scopes_disabled()
                 .filter(organization_id=member.organization_id, pk__in=policy.member_department_ids(member))
                 .order_by("name").values_list("name", flat=True))
    return f"{role}, {', '.join(names)}" if names else role
