"""Writes for user accounts: invitations and the profile."""

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from orgs.services import audit_record


def set_password_url(*, user, organization):
    """A one-time link, valid for PASSWORD_RESET_TIMEOUT, on the organisation's own host."""
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
    return organization.base_url + path.replace("UID-KEY", key)


def invitation_send(*, membership, new_user):
    """Email a new employee how to get in: a set-password link, or (known user) the sign-in page."""
    organization, user = membership.organization, membership.user
    context = {
        "user": user,
        "organization": organization,
        "role": membership.get_role_display,
        "login_url": organization.base_url + reverse("account_login"),
        "set_password_url": set_password_url(user=user, organization=organization) if new_user else "",
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    with translation.override(user.language or organization.default_language):
        subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/email/invitation_message.txt", context)
    send_mail(subject, body, None, [user.email])


@transaction.atomic
def profile_update(*, user, organization, changes, request=None):
    user.full_clean(exclude=["password"])
    user.save()
    if changes and organization is not None:
        audit_record(organization=organization, actor=user, action="profile.update", target=user,
                     changes=changes, request=request)
    return user


@transaction.atomic
def two_factor_disable(*, membership, actor, request=None):
    """Remove every authenticator of an employee (a lost phone), audited; they sign in with their password
    alone until they set it up again (which an organisation requiring it asks at once).

    The caller checks `policy.can_disable_two_factor_of`. Returns the removed types."""
    from allauth.mfa.models import Authenticator

    authenticators = Authenticator.objects.filter(user_id=membership.user_id)
    types = sorted(set(authenticators.values_list("type", flat=True)))
    if types:
        authenticators.delete()
    audit_record(organization=membership.organization, actor=actor, action="mfa.disable", target=membership,
                 changes={"two_factor": [types, []]}, request=request)
    return types
