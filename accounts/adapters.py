from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.urls import reverse

from orgs import policy
from orgs.selectors import membership_for


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Employees are invited by their organisation; patients never have accounts.
        return False

    # Sign-in throttling (accounts/signin_throttle.py) on top of allauth's own ACCOUNT_RATE_LIMITS: a locked
    # account is refused even with the right password, and the form says until when.
    def pre_authenticate(self, request, **credentials):
        from django import forms

        from accounts import signin_throttle

        until = signin_throttle.locked_until(path="password", key=_password_key(request, credentials), request=request,
                                             organization=getattr(request, "organization", None))
        if until is not None:
            raise forms.ValidationError(signin_throttle.message(until), code="locked")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request, **credentials):
        from django import forms

        from accounts import signin_throttle

        until = signin_throttle.failed(path="password", key=_password_key(request, credentials),
                                       label=credentials.get("email", ""), request=request,
                                       organization=getattr(request, "organization", None))
        if until is not None:
            raise forms.ValidationError(signin_throttle.message(until), code="locked")
        super().authentication_failed(request, **credentials)

    def authenticate(self, request, **credentials):
        from accounts import signin_throttle

        user = super().authenticate(request, **credentials)
        if user is not None and credentials.get("email"):
            signin_throttle.succeeded(path="password", key=_password_key(request, credentials))
        return user

    def get_login_redirect_url(self, request):
        """Org admins land in the admin, everyone else in the portal (a `next` URL wins)."""
        organization = getattr(request, "organization", None)
        if organization is None:
            return "/admin/"
        membership = membership_for(request.user, organization)
        if membership is None and request.user.is_superuser:
            return "/admin/"
        return "/admin/" if policy.can_use_admin(membership) else reverse("portal:home")

    def get_logout_redirect_url(self, request):
        return reverse("account_login")

    def send_mail(self, template_prefix, email, context):
        # Emails speak for the organisation whose host the request came to, not for a bare hostname.
        from django.conf import settings

        context.setdefault("organization", getattr(self.request, "organization", None))
        context.setdefault("platform_name", settings.PLATFORM_NAME)
        super().send_mail(template_prefix, email, context)

    def send_password_reset_mail(self, user, email, context):
        # Only for accounts that may sign in on this host: the link must lead somewhere useful.
        if policy.can_sign_in(user, getattr(self.request, "organization", None)):
            super().send_password_reset_mail(user, email, context)


def _password_key(request, credentials):
    """An account's failed passwords count per host: wrong tries on one organisation's host (or the platform's)
    neither lock nor reveal anything on another, and that organisation's admin sees and lifts the lock."""
    email = (credentials.get("email") or "").strip()
    if not email:
        return ""
    organization = getattr(request, "organization", None)
    return f"{organization.pk if organization is not None else 'platform'}:{email}"


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on (accounts/sso.py): only the request organisation's enabled OpenID Connect providers
    exist; nobody signs up through allauth (a first SSO sign-in may create an employee in pre_social_login)."""

    def is_open_for_signup(self, request, sociallogin):
        return False

    def list_apps(self, request, provider=None, client_id=None):
        from allauth.core import context

        from accounts import sso

        request = request or context.request
        return sso.social_apps(getattr(request, "organization", None), provider=provider, client_id=client_id)

    def get_provider(self, request, provider, client_id=None):
        from accounts import sso

        instance = super().get_provider(request, provider, client_id=client_id)
        if instance.id == sso.PROVIDER:
            # Every OpenID Connect step (the login redirect too, which allauth builds with the provider's own
            # adapter class) checks ID token signatures and the provider's addresses (sso.SignatureCheckingAdapter).
            instance.oauth2_adapter_class = sso.SignatureCheckingAdapter
        return instance

    def pre_social_login(self, request, sociallogin):
        from accounts import sso

        sso.pre_social_login(request, sociallogin)

    def can_authenticate_by_email(self, login, email):
        return False  # (issuer, subject) only, never an email address

    def get_requests_session(self):
        # Every server-side call to a provider (discovery, token, userinfo, keys), redirects included, goes to
        # public https addresses only: an issuer an admin typed must not reach our own network (SSRF).
        from accounts import sso

        return sso.requests_session()
