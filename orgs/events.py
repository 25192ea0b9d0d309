"""Signals other apps listen to."""

from django.dispatch import Signal

# Sent by orgs.services.org_create inside its transaction; other apps add their starting data
# (consult: the default email set and participant groups).
organization_created = Signal()
