"""Organisations, departments, employees, plan limits and the audit log. Covers F-ORG-1, 2, 5 and F-AUTH-5."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page, Site

from accounts.models import User
from cms.models import FollowUpPage, MainPage, OrganizationHomePage
from orgs.models import AuditEvent, Department, Membership, Organization, Role
from orgs.scoping import organization_scope, scopes_disabled
from orgs.services import (
    PlanLimitError,
    department_create,
    department_delete,
    employee_create,
    employee_update,
    org_create,
)

pytestmark = pytest.mark.django_db


def test_org_create_builds_site_tree_collection_and_groups(db):
    org = org_create(name="Gamma Care", subdomain="gamma")
    site = Site.objects.get(hostname="gamma.localhost")
    assert org.site == site and site.root_page.specific.__class__ is OrganizationHomePage
    home = site.root_page.specific
    main = home.published_set
    assert isinstance(main, MainPage) and main.live and main.get_parent().pk == home.pk
    follow_ups = main.get_children().specific()
    assert len(follow_ups) == 1 and isinstance(follow_ups[0], FollowUpPage) and follow_ups[0].live
    assert org.collection.get_parent() == Collection.get_first_root_node()
    assert GroupPagePermission.objects.filter(group=org.admins_group, page=home).count() == 6
    assert GroupCollectionPermission.objects.filter(group=org.admins_group, collection=org.collection).exists()
    assert org.admins_group.permissions.filter(codename="access_admin").exists()
    assert not org.department_admins_group.permissions.filter(codename="access_admin").exists()
    with scopes_disabled():
        assert AuditEvent.objects.filter(organization=org, action="organization.create").count() == 1


@pytest.mark.parametrize("subdomain", ["www", "Bad_Name", "-dash", "", "a" * 64])
def test_org_create_refuses_bad_subdomains_and_writes_nothing(db, subdomain):
    counts = (Organization.objects.count(), Page.objects.count(), Site.objects.count(), Group.objects.count(),
              Collection.objects.count())
    with pytest.raises(ValidationError) as error:
        org_create(name="Nope", subdomain=subdomain)
    assert "subdomain" in error.value.message_dict
    assert counts == (Organization.objects.count(), Page.objects.count(), Site.objects.count(),
                      Group.objects.count(), Collection.objects.count())


def test_org_create_refuses_a_taken_subdomain(alpha):
    with pytest.raises(ValidationError):
        org_create(name="Alpha again", subdomain="alpha")
    assert Organization.objects.filter(subdomain="alpha").count() == 1


def test_org_create_command(db, capsys):
    call_command("org_create", "delta", "Delta Health", "--max-users", "3", "--admin-email", "boss@delta.test")
    org = Organization.objects.get(subdomain="delta")
    assert org.max_users == 3
    with scopes_disabled():
        assert Membership.objects.get(organization=org).role == Role.ORG_ADMIN
    with pytest.raises(CommandError, match="already exists"):
        call_command("org_create", "delta", "Delta Again")


def test_max_users_refuses_one_more_with_a_clear_message(db):
    org = org_create(name="Tiny", subdomain="tiny", max_users=2)
    employee_create(organization=org, actor=None, email="one@tiny.test", send_invitation=False)
    employee_create(organization=org, actor=None, email="two@tiny.test", send_invitation=False)
    with pytest.raises(PlanLimitError, match="maximum number of users reached"):
        employee_create(organization=org, actor=None, email="three@tiny.test", send_invitation=False)
    assert not User.objects.filter(email="three@tiny.test").exists()
    with scopes_disabled():
        assert Membership.objects.filter(organization=org).count() == 2


def test_deactivated_employees_free_a_seat_and_reactivation_respects_the_limit(db):
    org = org_create(name="Tiny", subdomain="tiny", max_users=1)
    first = employee_create(organization=org, actor=None, email="one@tiny.test", role=Role.ORG_ADMIN,
                            send_invitation=False)
    second_admin_needed = employee_create
    with pytest.raises(PlanLimitError):
        second_admin_needed(organization=org, actor=None, email="two@tiny.test", send_invitation=False)
    with scopes_disabled():
        practitioner = Membership.objects.create(organization=org, user=User.objects.create_user("p@tiny.test"),
                                                 is_active=False)
    practitioner.is_active = True
    with pytest.raises(PlanLimitError):
        employee_update(membership=practitioner, actor=None, changes={})
    assert first.is_active


def test_the_last_organisation_admin_cannot_be_demoted_or_deactivated(alpha):
    admin = alpha.people["admin"]
    admin.role = Role.PRACTITIONER
    with pytest.raises(ValidationError, match="at least one active organisation admin"):
        employee_update(membership=admin, actor=admin.user, changes={"role": ["org_admin", "practitioner"]})
    with scopes_disabled():
        assert Membership.objects.get(pk=admin.pk).role == Role.ORG_ADMIN


def test_roles_follow_into_wagtail_groups(alpha):
    gp = alpha.people["gp"]
    assert not gp.user.groups.filter(pk=alpha.admins_group.pk).exists()
    gp.role = Role.ORG_ADMIN
    employee_update(membership=gp, actor=None, changes={})
    assert gp.user.groups.filter(pk=alpha.admins_group.pk).exists()
    gp.is_active = False
    employee_update(membership=gp, actor=None, changes={})
    assert not gp.user.groups.filter(pk=alpha.admins_group.pk).exists()


def test_existing_user_joins_a_second_organisation(alpha, beta):
    user = alpha.people["gp"].user
    membership = employee_create(organization=beta, actor=None, email=user.email.upper(), send_invitation=False)
    assert membership.user == user
    with pytest.raises(ValidationError, match="already an employee"):
        employee_create(organization=beta, actor=None, email=user.email, send_invitation=False)


def test_departments_cannot_come_from_another_organisation(alpha, beta):
    with scopes_disabled():
        foreign = beta.departments_by_name["gp"]
    with pytest.raises(ValidationError):
        employee_create(organization=alpha, actor=None, email="x@alpha.test", departments=[foreign],
                        send_invitation=False)
    assert not User.objects.filter(email="x@alpha.test").exists()


def test_department_names_are_unique_per_organisation(alpha, beta):
    with pytest.raises(ValidationError):
        department_create(organization=alpha, actor=None, name="Physiotherapy")
    department_create(organization=alpha, actor=None, name="Cardiology")
    department_create(organization=beta, actor=None, name="Cardiology")


def test_department_limit(db):
    org = org_create(name="Small", subdomain="small", max_departments=1)
    department_create(organization=org, actor=None, name="One")
    with pytest.raises(PlanLimitError, match="maximum number of departments reached"):
        department_create(organization=org, actor=None, name="Two")


def test_every_change_to_people_and_departments_is_audited(alpha):
    admin = alpha.people["admin"].user
    department = department_create(organization=alpha, actor=admin, name="Dermatology")
    department_delete(department=department, actor=admin)
    employee_create(organization=alpha, actor=admin, email="new@alpha.test", send_invitation=False)
    with scopes_disabled():
        actions = list(AuditEvent.objects.filter(organization=alpha, actor=admin).values_list("action", flat=True))
    assert sorted(actions) == ["department.create", "department.delete", "employee.create"]


def test_audit_log_is_append_only(alpha):
    with organization_scope(alpha):
        event = AuditEvent.objects.first()
        with pytest.raises(PermissionError):
            event.save()
        with pytest.raises(PermissionError):
            event.delete()
        with pytest.raises(PermissionError):
            AuditEvent.objects.all().delete()
        with pytest.raises(PermissionError):
            AuditEvent.objects.update(action="x")


def test_domain_queries_outside_an_organisation_scope_raise(alpha, beta):
    from django_scopes.exceptions import ScopeError

    with pytest.raises(ScopeError):
        list(Department.objects.all())
    with pytest.raises(ScopeError):
        Membership.objects.filter(role=Role.ORG_ADMIN).count()
    with organization_scope(alpha):
        assert {d.organization_id for d in Department.objects.all()} == {alpha.pk}
        assert not Department.objects.filter(organization=beta).exists()


def test_demo_command_is_idempotent(db, capsys):
    call_command("demo")
    call_command("demo", "--print-logins")
    out = capsys.readouterr().out
    assert "http://demo.localhost:8000/admin/" in out and "admin@demo.test" in out
    assert Organization.objects.filter(subdomain__in=["demo", "other"]).count() == 2
    with scopes_disabled():
        demo = Organization.objects.get(subdomain="demo")
        assert Department.objects.filter(organization=demo).count() == 2
        assert Membership.objects.filter(organization=demo).count() == 4
        roles = set(Membership.objects.filter(organization=demo).values_list("role", flat=True))
    assert roles == {Role.ORG_ADMIN, Role.DEPARTMENT_ADMIN, Role.PRACTITIONER}


def test_text_sent_back_with_browser_line_endings_is_not_a_change(alpha):
    """Browsers send text areas with \\r\\n; an unchanged address must not fill the audit log with "X → X"."""
    from django import forms

    from orgs.models import Organization
    from orgs.services import changed_fields

    class AddressForm(forms.ModelForm):
        class Meta:
            model = Organization
            fields = ["address", "contact_phone"]

    alpha.address = "Main street 1\n1234 AB Town"
    form = AddressForm({"address": "Main street 1\r\n1234 AB Town", "contact_phone": "+31 1"}, instance=alpha)
    assert form.is_valid()
    assert changed_fields(form) == {"contact_phone": ["", "+31 1"]}
