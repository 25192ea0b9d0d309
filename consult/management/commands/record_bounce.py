from django.core.management.base import BaseCommand, CommandError

from consult.emails import bounce_record
from orgs.models import Organization


class Command(BaseCommand):
    help = "Record a bounce reported by the mail provider and tell the department admin (F-APPT-9)."

    def add_arguments(self, parser):
        parser.add_argument("subdomain")
        parser.add_argument("address")
        parser.add_argument("reason")

    def handle(self, *args, subdomain, address, reason, **options):
        organization = Organization.objects.filter(subdomain=subdomain).first()
        if organization is None:
            raise CommandError(f"No organisation {subdomain}")
        delivery = bounce_record(organization=organization, address=address, reason=reason)
        if delivery is None:
            raise CommandError(f"No sent email to {address} in {organization}")
        self.stdout.write(f"Recorded; {organization} has been told.")
