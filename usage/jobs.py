"""The nightly usage job (F-USAGE-1): roll up every active organisation's recent days, purge old error reports.

Called by usage/tasks.py. Safe to run again at any moment: a rolled-up day is rebuilt, never added twice.
"""

import logging
from datetime import timedelta

from django.utils import timezone

from orgs.models import Organization
from orgs.scoping import organization_scope

from . import services
from .models import ClientError

logger = logging.getLogger(__name__)

CLIENT_ERRORS_KEPT = timedelta(days=90)


def nightly_rollup(*, now=None):
    """Returns {"organizations": rolled up, "days": days rolled up, "failed": subdomains, "purged": rows}."""
    now = now or timezone.now()
    summary = {"organizations": 0, "days": 0, "failed": [], "purged": 0}
    # An inactive organisation has no new activity; its last roll-ups stay as they are.
    for organization in Organization.objects.filter(is_active=True).order_by("pk"):
        try:
            days = services.rollup_organization(organization=organization,
                                                today=services.local_today(organization, now))
        except Exception:
            # One organisation's bad data must not cost every other organisation its report.
            logger.exception("Usage roll-up failed for organisation %s", organization.subdomain)
            summary["failed"].append(organization.subdomain)
            continue
        summary["organizations"] += 1
        summary["days"] += len(days)
    summary["purged"] = purge_client_errors(now=now)
    return summary


def purge_client_errors(*, now=None):
    """Error reports are kept 90 days (their day's counts stay in UsageErrors), for every organisation."""
    cutoff = (now or timezone.now()) - CLIENT_ERRORS_KEPT
    purged = 0
    for organization in Organization.objects.order_by("pk"):
        with organization_scope(organization):
            purged += ClientError.objects.filter(created_at__lt=cutoff).delete()[0]
    return purged
