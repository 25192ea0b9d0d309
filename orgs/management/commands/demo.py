"""Demo data for `make run`: organisation `demo` (and `other`, to show isolation). Safe to run again."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from orgs.models import Department, Membership, Organization, Role
from orgs.scoping import organization_scope
from orgs.services import department_create, employee_create, org_create

User = get_user_model()
DEMO_PASSWORD = "openconsult-demo"
STAFF_EMAIL = "staff@openconsult.test"

ORGANIZATIONS = [
    {
        "subdomain": "demo",
        "name": "Demo Health Practice",
        "fields": {
            "contact_email": "reception@demo.test", "contact_phone": "+31 20 123 4567",
            "address": "Keizersgracht 1\n1015 AA Amsterdam", "max_users": 10,
        },
        "departments": [("General practice", "#2563eb"), ("Physiotherapy", "#059669")],
        "people": [
            ("admin@demo.test", "Sanne", "de Vries", Role.ORG_ADMIN, [], "Practice manager"),
            ("deptadmin@demo.test", "Mark", "Jansen", Role.DEPARTMENT_ADMIN, ["General practice"], "Assistant"),
            ("eva@demo.test", "Eva", "Bakker", Role.PRACTITIONER, ["General practice"], "GP"),
            ("tom@demo.test", "Tom", "Visser", Role.PRACTITIONER, ["Physiotherapy"], "Physiotherapist"),
        ],
    },
    {
        "subdomain": "other",
        "name": "Other Clinic",
        "fields": {"contact_email": "desk@other.test", "max_users": 5},
        "departments": [("Cardiology", "#dc2626")],
        "people": [
            ("admin@other.test", "Olga", "Otten", Role.ORG_ADMIN, [], "Manager"),
            ("pieter@other.test", "Pieter", "Smit", Role.PRACTITIONER, ["Cardiology"], "Cardiologist"),
        ],
    },
]


class Command(BaseCommand):
    help = "Load the demo organisations and people (idempotent) and print the logins."

    @transaction.atomic
    def handle(self, *args, **options):
        staff, _ = User.objects.get_or_create(
            email=STAFF_EMAIL, defaults={"first_name": "Platform", "last_name": "Staff"}
        )
        staff.is_staff = staff.is_superuser = True
        staff.set_password(DEMO_PASSWORD)
        staff.save()
        for spec in ORGANIZATIONS:
            self._organization(spec)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))

    def _organization(self, spec):
        organization = Organization.objects.filter(subdomain=spec["subdomain"]).first()
        if organization is None:
            fields = dict(spec["fields"])
            organization = org_create(name=spec["name"], subdomain=spec["subdomain"],
                                      max_users=fields.pop("max_users"), **fields)
        with organization_scope(organization):
            departments = {d.name: d for d in Department.objects.all()}
            for name, colour in spec["departments"]:
                if name not in departments:
                    departments[name] = department_create(organization=organization, actor=None, name=name,
                                                          colour=colour)
            for email, first, last, role, department_names, title in spec["people"]:
                membership = Membership.objects.filter(user__email=email).first()
                if membership is None:
                    membership = employee_create(
                        organization=organization, actor=None, email=email, first_name=first, last_name=last,
                        role=role, departments=[departments[n] for n in department_names], job_title=title,
                        send_invitation=False,
                    )
                user = membership.user
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
