from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from orgs.models import Role
from orgs.services import employee_create, org_create


class Command(BaseCommand):
    help = "Create an organisation with its site, page set, media collection and permission groups."

    def add_arguments(self, parser):
        parser.add_argument("subdomain")
        parser.add_argument("name")
        parser.add_argument("--max-users", type=int, default=10)
        parser.add_argument("--plan", default="Standard")
        parser.add_argument("--admin-email", help="Invite this person as the first organisation admin.")

    def handle(self, *args, subdomain, name, max_users, plan, admin_email, **options):
        try:
            organization = org_create(name=name, subdomain=subdomain, max_users=max_users, plan_name=plan)
            if admin_email:
                employee_create(organization=organization, actor=None, email=admin_email, role=Role.ORG_ADMIN)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"Created {organization.name} at {organization.base_url}/"))
