"""Demo data for `make run`: organisation `demo` (and `other`, to show isolation). Safe to run again."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from chat.demo import chat_demo
from cms.demo import demo_site
from consult.demo import consult_demo, consult_now_link
from formbuilder.demo import questionnaire_demo
from orgs.models import Department, Membership, Organization, Role, public_url_for_host
from orgs.scoping import organization_scope
from orgs.services import department_create, employee_create, group_permissions_sync, org_create
from usage.demo import usage_demo
from widgets.demo import demo_widgets

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
            # So platform staff can try remote support (after setting up their own two-factor authentication).
            "allow_remote_support": True,
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

    def add_arguments(self, parser):
        parser.add_argument("--print-logins", action="store_true", help="Print the URLs and demo logins.")

    def handle(self, *args, print_logins=False, **options):
        self._load()
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        if print_logins:
            self._print_logins()

    def _print_logins(self):
        demo = Organization.objects.get(subdomain="demo")
        other = Organization.objects.get(subdomain="other")
        platform = public_url_for_host(settings.BASE_DOMAIN)
        key_place = ("the QUESTIONNAIRE_KEYS environment variable" if os.environ.get("QUESTIONNAIRE_KEYS")
                     else settings.VAR_DIR / "questionnaire_keys")
        lines = [
            "",
            "  OpenConsult demo: once the server below has started, open these in your browser:",
            "",
            f"  {demo.base_url}/          the demo organisation's web site",
            f"  {demo.base_url}/admin/    organisation admin     admin@demo.test",
            f"  {demo.base_url}/portal/   practitioner           eva@demo.test   (also tom@demo.test)",
            "                                        department admin       deptadmin@demo.test",
            f"  {platform}/admin/         platform staff         {STAFF_EMAIL}",
            f"  {other.base_url}/         a second organisation (admin@other.test), to see isolation",
            "",
            f"  Password for every demo login: {DEMO_PASSWORD}",
            "",
            "  Try a video consult: sign in to the portal as eva@demo.test and open the Waiting room; then open",
            f"  this patient link in another browser (or a private window): {consult_now_link(demo, 'eva@demo.test')}",
            "  and call the patient in. Each run of `make run` makes a fresh appointment when the last one closed.",
            "  Or walk in from the web site's walk-in widget: Eva's walk-in switch is on (she turns it off in the",
            "  consultation room); the booking widget next to it books a free slot and emails the link.",
            f"  Patient portal: {demo.base_url}/patient/ - sign in with a demo client's email address, e.g.",
            "  sophie.williams@example.com (English) or jan.deboer@example.com (Dutch); the 6-digit code arrives by",
            "  email. Every demo client has the medical-history questionnaire to fill in; practitioners read the",
            "  answers (and download them as PDF) on the client's record.",
            "  Sign-in security: two-factor authentication in My profile (any authenticator app, or a security",
            "  key); the org admin's Settings hold the TFA policy, idle sign-out, single sign-on providers (try one",
            "  with `.venv/bin/python -m tests.oidc_provider --port 9000`, see the README), sign-in lockouts and",
            f"  API keys (the API's documentation: {demo.base_url}/api/docs). Platform staff start remote support",
            f"  from {platform}/admin/ > Organisations, after setting up their own two-factor authentication.",
            f"  Questionnaire answers are encrypted with the key kept in {key_place}",
            "  (set QUESTIONNAIRE_KEYS in production; `manage.py rotate_questionnaire_keys` rotates it).",
            f"  Emails are written to {settings.EMAIL_FILE_PATH}/" if hasattr(settings, "EMAIL_FILE_PATH") else "",
            "",
        ]
        self.stdout.write("\n".join(lines))

    @transaction.atomic
    def _load(self):
        staff, _ = User.objects.get_or_create(
            email=STAFF_EMAIL, defaults={"first_name": "Platform", "last_name": "Staff"}
        )
        staff.is_staff = staff.is_superuser = True
        staff.set_password(DEMO_PASSWORD)
        staff.save()
        for spec in ORGANIZATIONS:
            self._organization(spec)

    def _organization(self, spec):
        organization = Organization.objects.filter(subdomain=spec["subdomain"]).first()
        if organization is None:
            fields = dict(spec["fields"])
            organization = org_create(name=spec["name"], subdomain=spec["subdomain"],
                                      max_users=fields.pop("max_users"), **fields)
        group_permissions_sync(organization)
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
        consult_demo(organization)
        chat_demo(organization)
        questionnaire_demo(organization)
        widgets = demo_widgets(organization)
        if spec["subdomain"] == "demo":
            # Eva's walk-in switch is on, so the site's walk-in widget has someone to offer at any hour.
            Membership.objects.with_scopes_disabled().filter(
                organization=organization, user__email="eva@demo.test").update(walk_in_open=True)
            demo_site(organization, widgets=widgets)  # a practice site in Dutch and English with both widgets
        # Usage reports: 40 days of history in the demo organisation; the other one's days are rolled up empty.
        usage_demo(organization, history=spec["subdomain"] == "demo")
