"""The policy module over a role × setting grid. Covers F-ORG-7 and F-ORG-8."""

import itertools

import pytest

from orgs import policy
from orgs.models import Membership, Role
from orgs.scoping import organization_scope, scopes_disabled

pytestmark = pytest.mark.django_db

SETTINGS = {
    "open": dict(strict_departments=False, strict_clients=False),
    "strict_departments": dict(strict_departments=True, strict_clients=False),
    "strict_clients": dict(strict_departments=False, strict_clients=True),
    "both": dict(strict_departments=True, strict_clients=True),
}

# Records a GP-department practitioner ("gp") might look at, described by department and practitioner.
RECORDS = {
    "own_client": ("gp", "gp"),           # in my department, I am the practitioner
    "colleague_client": ("gp", "deptadmin"),  # in my department, another practitioner
    "other_department": ("physio", "physio"),  # another department, another practitioner
    "own_elsewhere": ("physio", "gp"),    # another department, but I am the practitioner
}

# Expected visibility: setting -> role -> set of records visible.
EVERYTHING = set(RECORDS)
EXPECTED = {
    "open": {"admin": EVERYTHING, "deptadmin": EVERYTHING, "gp": EVERYTHING},
    "strict_departments": {
        "admin": EVERYTHING,
        "deptadmin": {"own_client", "colleague_client"},
        "gp": {"own_client", "colleague_client", "own_elsewhere"},
    },
    "strict_clients": {"admin": EVERYTHING, "deptadmin": EVERYTHING, "gp": {"own_client", "own_elsewhere"}},
    "both": {
        "admin": EVERYTHING,
        "deptadmin": {"own_client", "colleague_client"},
        "gp": {"own_client", "own_elsewhere"},
    },
}


def configure(org, setting):
    for field, value in SETTINGS[setting].items():
        setattr(org, field, value)
    org.save()


def member(org, key):
    with scopes_disabled():
        membership = Membership.objects.select_related("organization").get(pk=org.people[key].pk)
    membership.organization = org
    return membership


@pytest.mark.parametrize("setting,role", list(itertools.product(SETTINGS, ["admin", "deptadmin", "gp"])))
def test_record_visibility_grid(alpha, beta, setting, role):
    configure(alpha, setting)
    viewer = member(alpha, role)
    visible = set()
    for name, (department_key, practitioner_key) in RECORDS.items():
        with scopes_disabled():
            department_id = alpha.departments_by_name[department_key].pk
        practitioner_user_id = alpha.people[practitioner_key].user_id
        if policy.can_view_record(
            viewer, organization_id=alpha.pk, department_ids=[department_id],
            practitioner_user_ids=[practitioner_user_id],
        ):
            visible.add(name)
    assert visible == EXPECTED[setting][role]
    # Never across organisations, whatever the role or setting.
    assert not policy.can_view_record(viewer, organization_id=beta.pk, department_ids=[], practitioner_user_ids=[])


@pytest.mark.parametrize("setting,role", list(itertools.product(SETTINGS, ["admin", "deptadmin", "gp", "physio"])))
def test_queryset_filter_agrees_with_the_single_record_rule(alpha, beta, setting, role):
    """record_visibility_q is the same rule as can_view_record, for lists. Memberships stand in for records
    here: they have departments and a user (the "practitioner")."""
    configure(alpha, setting)
    viewer = member(alpha, role)
    with organization_scope(alpha):
        q = policy.record_visibility_q(viewer, department_field="departments", practitioner_field="user")
        listed = set(Membership.objects.filter(q).values_list("pk", flat=True).distinct())
        expected = {
            m.pk for m in Membership.objects.prefetch_related("departments")
            if policy.can_view_record(viewer, organization_id=m.organization_id,
                                      department_ids=[d.pk for d in m.departments.all()],
                                      practitioner_user_ids=[m.user_id])
        }
    with scopes_disabled():
        assert not Membership.objects.filter(pk__in=listed, organization=beta).exists()
    assert listed == expected


@pytest.mark.parametrize("setting", SETTINGS)
def test_departments_and_colleagues_visible_per_role(alpha, setting):
    configure(alpha, setting)
    strict = SETTINGS[setting]["strict_departments"]
    with organization_scope(alpha):
        from orgs.models import Department

        for role in ("admin", "deptadmin", "gp", "physio"):
            viewer = member(alpha, role)
            names = set(policy.visible_departments(viewer, Department.objects.all()).values_list("name", flat=True))
            colleagues = set(policy.visible_employees(viewer, Membership.objects.all()).values_list("pk", flat=True))
            if role == "admin" or not strict:
                assert names == {"General practice", "Physiotherapy"}
                assert len(colleagues) == 4
            else:
                own = {"deptadmin": "General practice", "gp": "General practice", "physio": "Physiotherapy"}[role]
                assert names == {own}
                sharing = {k for k, m in alpha.people.items()
                           if own in {d.name for d in m.departments.all()} or k in ("admin", role)}
                assert colleagues == {alpha.people[k].pk for k in sharing}


@pytest.mark.parametrize("role,admin,portal", [
    ("admin", True, True), ("deptadmin", False, True), ("gp", False, True),
])
def test_area_access_per_role(alpha, role, admin, portal):
    viewer = member(alpha, role)
    assert policy.can_use_admin(viewer) is admin
    assert policy.can_use_portal(viewer) is portal
    assert policy.can_manage_employees(viewer) is admin
    viewer.is_active = False
    assert not policy.can_use_admin(viewer) and not policy.can_use_portal(viewer)


def test_sign_in_rules(alpha, beta, superuser):
    gp = alpha.people["gp"].user
    assert policy.can_sign_in(gp, alpha)
    assert not policy.can_sign_in(gp, beta)
    assert not policy.can_sign_in(gp, None)
    assert policy.can_sign_in(superuser, None)
    assert not policy.can_sign_in(superuser, alpha)
    alpha.allow_remote_support = True
    alpha.save()
    # Platform staff enter only through remote support, signed in as an employee (F-ORG-10).
    assert not policy.can_sign_in(superuser, alpha)
    alpha.is_active = False
    alpha.save()
    assert not policy.can_sign_in(gp, alpha)


def test_department_appointments_only_with_strict_departments(alpha):
    viewer = member(alpha, "deptadmin")
    assert policy.can_be_appointment_target(viewer, with_department=False)
    assert not policy.can_be_appointment_target(viewer, with_department=True)
    configure(alpha, "strict_departments")
    assert policy.can_be_appointment_target(member(alpha, "deptadmin"), with_department=True)
    assert Role.PRACTITIONER == "practitioner"
