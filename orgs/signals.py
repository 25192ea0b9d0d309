from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import selectors
from .middleware import SESSION_ORG_KEY, session_binding
from .services import audit_record


@receiver(user_logged_in)
def bind_session_to_host(sender, request, user, **kwargs):
    """A session is valid only on the host it signed in on (see OrganizationAccessMiddleware)."""
    if request is not None and hasattr(request, "session"):
        organization = getattr(request, "organization", None)
        request.session[SESSION_ORG_KEY] = session_binding(organization)
        if organization is not None and user.is_superuser and not selectors.membership_for(user, organization):
            # Remote support is visible to the organisation in its audit log (F-ORG-10).
            audit_record(organization=organization, actor=user, action="remote_support.sign_in", request=request)
