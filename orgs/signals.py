from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .middleware import SESSION_ORG_KEY, session_binding


@receiver(user_logged_in)
def bind_session_to_host(sender, request, user, **kwargs):
    """A session is valid only on the host it signed in on (see OrganizationAccessMiddleware).

    Platform staff never sign in on an organisation's host; remote support (orgs/remote_support.py) signs in
    as the employee and audits the start itself."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_ORG_KEY] = session_binding(getattr(request, "organization", None))
