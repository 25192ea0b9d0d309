"""Reactions to sign-ins and to allauth MFA's signals: reminders, other sessions ended, the audit log."""

from allauth.account.signals import user_logged_in
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib import messages
from django.dispatch import receiver
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from orgs import policy, selectors
from orgs.services import audit_record

SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


@receiver(user_logged_in, dispatch_uid="accounts.remind_two_factor")
def remind_two_factor(sender, request, user, **kwargs):
    """Where two-factor authentication is allowed, everyone without it hears so after each sign-in."""
    organization = getattr(request, "organization", None)
    if organization is None or not policy.should_remind_two_factor(selectors.membership_for(user, organization)):
        return
    # format_html escapes both parts; messages keep the safe-string mark through the session.
    messages.info(request, format_html(
        '{} <a href="{}">{}</a>',
        _("Protect your account with two-factor authentication: a code from an app on your phone, "
          "or a security key, as well as your password."),
        reverse("mfa_index"), _("Set up two-factor authentication"),
    ))


@receiver(user_logged_in, dispatch_uid="accounts.audit_sign_in")
def audit_sign_in(sender, request, user, **kwargs):
    """An employee's sign-in on their organisation's host: the usage report counts these (F-USAGE-1).
    Platform staff signing in without a membership are not the organisation's employees."""
    organization = getattr(request, "organization", None)
    if organization is None or selectors.membership_for(user, organization) is None:
        return
    audit_record(organization=organization, actor=user, action="account.sign_in", request=request)


@receiver(authenticator_added, dispatch_uid="accounts.two_factor_added")
def two_factor_added(sender, request, user, authenticator, **kwargs):
    if authenticator.type not in SECOND_FACTORS:
        return  # recovery codes come with the first authenticator
    end_other_sessions(request, user)
    _audit(request, user, "mfa.activate", authenticator, [None, authenticator.type])


@receiver(authenticator_removed, dispatch_uid="accounts.two_factor_removed")
def two_factor_removed(sender, request, user, authenticator, **kwargs):
    if authenticator.type not in SECOND_FACTORS:
        return
    _audit(request, user, "mfa.deactivate", authenticator, [authenticator.type, None])


def end_other_sessions(request, user):
    """Whoever else is signed in as this user (a stolen password) is signed out: every session allauth's
    usersessions knows of but this request's. (Its own helper asks allauth's request context, which is
    gone when this runs on commit after the view.)"""
    from allauth.usersessions.adapter import get_adapter
    from allauth.usersessions.models import UserSession

    current = request.session.session_key
    get_adapter().end_sessions(UserSession.objects.filter(user_id=user.pk).exclude(session_key=current))


def _audit(request, user, action, authenticator, change):
    organization = getattr(request, "organization", None)
    if organization is None:
        return  # the platform host: no organisation's audit log
    audit_record(organization=organization, actor=user, action=action, target=authenticator,
                 changes={"type": change}, request=request)
