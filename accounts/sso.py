"""Single sign-on per organisation with OpenID Connect (F-AUTH-4).

Each organisation configures its own providers (accounts.models.OidcProvider). allauth's
`openid_connect` provider does the protocol; our SocialAccountAdapter hands it, per request, unsaved
SocialApps built from the request organisation's enabled providers only, so another organisation's
provider id is a 404 on this host.

Accounts are matched on (issuer, subject): SocialAccount(provider=<provider_id>, uid=<sub>), where the
provider id is derived from the organisation and the issuer; changing the issuer gives a new id (and
removes the links made under the old one). Email alone never signs anyone in.

The ID token's signature is always checked against the issuer's JWKS (allauth skips that when it fetched
the token itself; we do not): our login and callback views use SignatureCheckingAdapter.
"""

import functools
import hashlib
import ipaddress
import re
import secrets
import socket
from urllib.parse import urlsplit

import jwt
import requests
from allauth.account.internal.decorators import login_not_required
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from orgs import policy
from orgs.scoping import organization_scope
from orgs.services import audit_record

from .models import OidcProvider
from .secret_keys import seal, unseal

PROVIDER = "openid_connect"
SECRET_PURPOSE = b"openconsult/sso/oidc-client-secret/v1"
SIGNATURE_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Google's issuer: its accounts of a Workspace carry the "hd" (hosted domain) claim; a personal Google account
# (gmail, or any address registered as a Google account) has none, whatever its email domain.
GOOGLE_ISSUER = "https://accounts.google.com"
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


# --- the client secret, sealed at rest ---------------------------------------------------------

def _secret_context(provider):
    # Bound to its row: a sealed secret copied to another provider or organisation does not open.
    return f"oidcprovider:{provider.organization_id}:{provider.key}".encode()


def secret_seal(provider, plaintext):
    return seal(SECRET_PURPOSE, _secret_context(provider), plaintext)


def secret_open(provider):
    # "" when SECRET_KEY changed beyond its fallbacks, or the row was tampered with: the provider refuses it.
    return unseal(SECRET_PURPOSE, _secret_context(provider), provider.client_secret_sealed)


# --- normalising what admins type -------------------------------------------------------------

def _private_allowed():
    return getattr(settings, "SSO_ALLOW_PRIVATE_ISSUERS", False)


class BlockedAddressError(requests.exceptions.InvalidURL):
    """A server-side request to an address we do not talk to (see check_server_url)."""


def _is_public(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") is link-local anyway
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_server_url(url):
    """Raise ValidationError unless our server may call `url`: https to a host whose every address is public
    (not loopback, private, link-local, shared or reserved), so that an organisation admin's issuer (or what
    its discovery document names) cannot make the server call into its own network (SSRF).

    settings.SSO_ALLOW_PRIVATE_ISSUERS (development and tests: a provider on 127.0.0.1) allows any address,
    and plain http on this machine."""
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationError(_("“%(url)s” is not a valid address.") % {"url": url})
    private_allowed = _private_allowed()
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOCAL_HOSTS and private_allowed):
        raise ValidationError(_("“%(url)s” is not an https:// address.") % {"url": url})
    if private_allowed:
        return
    try:
        port = parts.port or 443
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError, ValueError):
        raise ValidationError(_("The server “%(host)s” could not be found.") % {"host": host}) from None
    if not addresses or not all(_is_public(address) for address in addresses):
        raise ValidationError(_(
            "“%(host)s” is a local or private network address. The sign-in provider must be reachable on the "
            "public internet."
        ) % {"host": host})


def normalize_issuer(value):
    value = (value or "").strip().rstrip("/")
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    local = host in LOCAL_HOSTS and _private_allowed()
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValidationError(_("The issuer must be an https:// address."))
    if not host or parts.query or parts.fragment or "/.well-known/" in value:
        raise ValidationError(
            _("Enter the issuer itself, for example https://accounts.google.com, without “.well-known”.")
        )
    check_server_url(value)  # resolved now, and again before every call the server makes
    return value


class PublicOnlySession(requests.Session):
    """The session allauth makes every server-side call with (discovery, token, userinfo, JWKS): each request,
    redirects included, goes only to a public https address (check_server_url)."""

    def send(self, request, **kwargs):
        try:
            check_server_url(request.url)
        except ValidationError as error:
            raise BlockedAddressError(" ".join(error.messages), request=request) from None
        return super().send(request, **kwargs)


def requests_session():
    from allauth.socialaccount import app_settings

    session = PublicOnlySession()
    session.request = functools.partial(session.request, timeout=app_settings.REQUESTS_TIMEOUT)
    return session


def normalize_domains(value):
    domains = []
    for part in re.split(r"[,\s;]+", (value or "").lower()):
        part = part.strip().lstrip("@").rstrip(".")
        if not part:
            continue
        if not DOMAIN.match(part):
            raise ValidationError(_("“%(domain)s” is not a domain name."), params={"domain": part})
        if part not in domains:
            domains.append(part)
    return ",".join(domains)


def provider_id_for(*, organization_id, key, issuer):
    digest = hashlib.sha256(f"{organization_id}|{issuer}".encode()).hexdigest()[:10]
    return f"{key}-{digest}"


def callback_url(provider):
    path = reverse("openid_connect_callback", kwargs={"provider_id": provider.provider_id})
    return provider.organization.base_url + path


# --- writes (organisation admins, in the Wagtail admin) ---------------------------------------

def _unlink_all(provider_id):
    return SocialAccount.objects.filter(provider=provider_id).delete()[0]


@transaction.atomic
def oidc_provider_create(*, provider, actor, client_secret, departments=(), request=None):
    """Save a new provider a form has filled in (organisation set); seals the secret; audited."""
    organization = provider.organization
    if any(d.organization_id != organization.pk for d in departments):
        raise ValidationError({"new_user_departments": _("Choose departments of your own organisation.")})
    provider.issuer = normalize_issuer(provider.issuer)
    provider.allowed_domains = normalize_domains(provider.allowed_domains)
    provider.key = secrets.token_hex(4)
    provider.provider_id = provider_id_for(organization_id=organization.pk, key=provider.key, issuer=provider.issuer)
    if not client_secret:
        raise ValidationError({"client_secret": _("Enter the client secret.")})
    provider.client_secret_sealed = secret_seal(provider, client_secret)
    with organization_scope(organization):
        provider.full_clean(exclude=["client_secret_sealed"])
        provider.save()
        provider.new_user_departments.set(departments)
    audit_record(organization=organization, actor=actor, action="sso.create", target=provider, request=request,
                 changes={"issuer": [None, provider.issuer], "enabled": [None, provider.enabled]})
    return provider


@transaction.atomic
def oidc_provider_update(*, provider, actor, changes, client_secret="", departments=None, request=None):
    """Save a provider a form has changed. A new issuer gives a new provider id and unlinks every account
    linked under the old one: a subject is only unique within its issuer."""
    organization = provider.organization
    old = OidcProvider.objects.with_scopes_disabled().get(pk=provider.pk, organization=organization)
    changes = dict(changes or {})
    changes.pop("client_secret", None)
    provider.issuer = normalize_issuer(provider.issuer)
    provider.allowed_domains = normalize_domains(provider.allowed_domains)
    if departments is not None and any(d.organization_id != organization.pk for d in departments):
        raise ValidationError({"new_user_departments": _("Choose departments of your own organisation.")})
    if provider.issuer != old.issuer:
        provider.provider_id = provider_id_for(organization_id=organization.pk, key=provider.key,
                                               issuer=provider.issuer)
        changes["linked_accounts"] = [_unlink_all(old.provider_id), 0]  # "linked accounts: 3 → 0"
    if client_secret:
        provider.client_secret_sealed = secret_seal(provider, client_secret)
        changes["client_secret"] = ["••••", "•••• (new)"]  # never the value
    with organization_scope(organization):
        provider.full_clean(exclude=["client_secret_sealed"])
        provider.save()
        if departments is not None:
            provider.new_user_departments.set(departments)
    if changes:
        audit_record(organization=organization, actor=actor, action="sso.update", target=provider,
                     changes=changes, request=request)
    return provider


@transaction.atomic
def oidc_provider_delete(*, provider, actor, request=None):
    removed = _unlink_all(provider.provider_id)
    audit_record(organization=provider.organization, actor=actor, action="sso.delete", target=provider,
                 changes={"linked_accounts": [removed, 0]}, request=request)
    with organization_scope(provider.organization):
        provider.delete()


# --- reads for the sign-in pages --------------------------------------------------------------

def providers_of(organization, *, enabled_only=True):
    if organization is None:
        return OidcProvider.objects.none()
    providers = OidcProvider.objects.with_scopes_disabled().filter(organization=organization)
    return providers.filter(enabled=True) if enabled_only else providers


def social_app(provider):
    """The unsaved SocialApp allauth's openid_connect provider works with."""
    return SocialApp(
        provider=PROVIDER,
        provider_id=provider.provider_id,
        name=provider.button_text or provider.name,
        client_id=provider.client_id,
        secret=provider.client_secret,
        # PKCE as well as the state: a stolen authorisation code is useless without this browser's verifier.
        settings={"server_url": provider.issuer, "fetch_userinfo": True, "oauth_pkce_enabled": True},
    )


def social_apps(organization, *, provider=None, client_id=None):
    providers = providers_of(organization)
    if provider and provider != PROVIDER:
        providers = providers.filter(provider_id=provider)
    if client_id:
        providers = providers.filter(client_id=client_id)
    return [social_app(p) for p in providers]


# --- the login: checks and creating employees -------------------------------------------------

class RefusedError(Exception):
    def __init__(self, message, status=403):
        super().__init__(message)
        self.message = message
        self.status = status


def error_response(request, message, status=403):
    return render(request, "socialaccount/sso_error.html", {"message": message}, status=status)


def refuse(request, message, status=403):
    raise ImmediateHttpResponse(error_response(request, message, status))


def claims_of(sociallogin):
    """The identity's claims: the (signature-checked) ID token wins over the userinfo response."""
    data = sociallogin.account.extra_data or {}
    userinfo = data.get("userinfo") or {}
    id_token = data.get("id_token") or {}
    return {**userinfo, **id_token}, id_token, userinfo


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def check_identity(provider, claims, id_token, userinfo=None):
    """Raise RefusedError with the reason shown to the person signing in."""
    if id_token.get("iss", "").rstrip("/") != provider.issuer:
        raise RefusedError(_("The sign-in provider answered for another issuer than the one configured."))
    # allauth takes the account's subject from the userinfo response when there is one; the match on (issuer,
    # subject) must rest on the signature-checked ID token, and OpenID Connect requires both to name the same
    # subject.
    if not id_token.get("sub") or (userinfo and str(userinfo.get("sub", "")) != str(id_token["sub"])):
        raise RefusedError(_("The sign-in provider's answers did not agree on who you are, so you cannot be "
                             "signed in. Please try again."))
    email = (claims.get("email") or "").strip().lower()
    # Only an explicit "email_verified": false is refused. Microsoft Entra ID does not send the claim at all
    # (its email is whatever the tenant's admin set), so a missing claim must stay acceptable; the email is
    # never used to match an account anyway, only to create one (and to refuse an existing address).
    if "email_verified" in claims and not _truthy(claims["email_verified"]):
        raise RefusedError(
            _("Your email address is not verified with the sign-in provider, so it cannot be used here.")
        )
    allowed = provider.domain_list()
    if allowed:
        hosted_domain = (claims.get("hd") or "").strip().lower()
        if provider.issuer == GOOGLE_ISSUER:
            # A personal Google account may carry a work address (e.g. a former employee's) but has no "hd":
            # only the hosted domain says the account belongs to the organisation's Workspace.
            if not hosted_domain:
                raise RefusedError(_(
                    "Personal Google accounts may not sign in here. Sign in with your organisation's Google "
                    "Workspace account."
                ))
            domain = hosted_domain
        else:
            domain = hosted_domain or email.rpartition("@")[2]
        if domain not in allowed:
            raise RefusedError(_("Accounts of the domain “%(domain)s” may not sign in here.") % {
                "domain": domain or "—"})
    return email


def _names(claims):
    first, last = claims.get("given_name") or "", claims.get("family_name") or ""
    if not (first or last) and claims.get("name"):
        first, _sep, last = claims["name"].strip().partition(" ")
    return first[:150], last[:150]


def create_employee(*, provider, sociallogin, email, claims, request):
    """A new employee from a first SSO sign-in: user, membership (plan enforced) and link in one transaction,
    so a refusal (e.g. "maximum number of users reached") leaves no row behind."""
    from orgs.services import employee_create

    organization = provider.organization
    first_name, last_name = _names(claims)
    with transaction.atomic():
        with organization_scope(organization):
            departments = list(provider.new_user_departments.all())
        membership = employee_create(
            organization=organization, actor=None, email=email, first_name=first_name, last_name=last_name,
            role=provider.new_user_role, departments=departments, send_invitation=False, request=request,
        )
        user = membership.user
        sociallogin.user = user
        sociallogin.account.user = user
        sociallogin.account.save()
        audit_record(organization=organization, actor=user, action="sso.user_create", target=membership,
                     request=request, changes={"provider": [None, provider.name], "email": [None, email]})
    return user


def pre_social_login(request, sociallogin):
    """Called by our SocialAccountAdapter after allauth looked up (provider id, subject)."""
    if sociallogin.state.get("process") == "connect" and getattr(request, "remote_support", None):
        # Platform staff acting as an employee would link their own identity to the employee's account and
        # could sign in as the employee later, outside the support session (orgs/remote_support.py also
        # forbids /accounts/oidc/ then; this is the second lock).
        refuse(request, _("Sign-in accounts cannot be linked during remote support."))
    organization = getattr(request, "organization", None)
    provider = providers_of(organization).filter(provider_id=sociallogin.account.provider).first()
    if provider is None:
        refuse(request, _("This sign-in method is not available here."), status=404)
    claims, id_token, userinfo = claims_of(sociallogin)
    try:
        email = check_identity(provider, claims, id_token, userinfo)
    except RefusedError as refusal:
        refuse(request, refusal.message, refusal.status)

    if sociallogin.is_existing:
        if not policy.can_sign_in(sociallogin.user, organization):
            refuse(request, _("Your account has no access to %(organization)s.") % {"organization": organization})
        return
    if sociallogin.state.get("process") == "connect":
        return  # a signed-in employee links this identity from My profile (allauth's connect flow)

    User = get_user_model()  # noqa: N806
    if email and User.objects.filter(email__iexact=email).exists():
        refuse(request, _(
            "An account with the address %(email)s already exists, but it is not linked to this sign-in "
            "provider. Sign in with your email address and password, then link the provider under "
            "My profile → Sign-in with another account."
        ) % {"email": email})
    if not provider.create_users_on_login:
        refuse(request, _(
            "There is no account for you at %(organization)s. Ask your organisation's administrator to add you."
        ) % {"organization": organization})
    if not email:
        refuse(request, _("The sign-in provider did not tell us your email address, so no account can be made."))
    try:
        create_employee(provider=provider, sociallogin=sociallogin, email=email, claims=claims, request=request)
    except ValidationError as error:
        refuse(request, " ".join(error.messages))


# --- views: our own login and callback, in front of allauth's --------------------------------

class SignatureCheckingAdapter(OpenIDConnectOAuth2Adapter):
    """allauth skips the ID token's signature check when it fetched the token itself (allowed by the spec
    over TLS); we check it always, against the issuer's published keys.

    Before the server calls the issuer, its address is checked again (DNS may have changed since it was saved,
    or the setting that allows local providers), and so are the endpoints its discovery document names: the
    server only calls public https addresses (check_server_url; requests_session checks every request too).
    """

    ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")

    @property
    def openid_config(self):
        if not hasattr(self, "_openid_config"):
            provider = self.get_provider()
            _checked_or_refused(self.request, provider.server_url)
            try:
                config = OpenIDConnectOAuth2Adapter.openid_config.fget(self)
            except BlockedAddressError as error:  # e.g. the discovery URL redirected to a private address
                refuse(self.request, _refusal_message(str(error)))
            for name in self.ENDPOINTS:
                if config.get(name) is None:
                    if name == "userinfo_endpoint":
                        continue
                    refuse(self.request, _refusal_message(_("Its configuration has no %(name)s.") % {"name": name}))
                _checked_or_refused(self.request, config[name])
        return self._openid_config

    def _decode_id_token(self, app, id_token):
        try:
            algorithm = jwt.get_unverified_header(id_token).get("alg")
        except jwt.PyJWTError as error:
            raise OAuth2Error("Invalid id_token") from error
        if algorithm not in SIGNATURE_ALGORITHMS:  # never "none" or a shared-secret algorithm
            raise OAuth2Error(f"ID token algorithm {algorithm!r} is not accepted")
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )


def _refusal_message(reason):
    return _("This sign-in provider cannot be used: %(reason)s Ask your organisation's administrator.") % {
        "reason": reason}


def _checked_or_refused(request, url):
    try:
        check_server_url(url)
    except ValidationError as error:
        refuse(request, _refusal_message(" ".join(error.messages)))


def _provider_or_response(request, provider_id):
    provider = providers_of(getattr(request, "organization", None), enabled_only=False).filter(
        provider_id=provider_id).first()
    if provider is None:
        raise Http404
    if not provider.enabled:
        return error_response(request, _(
            "Signing in with %(name)s has been turned off by your organisation. Sign in with your email "
            "address and password, or ask your administrator."
        ) % {"name": provider.name})
    return None


def _leave_by_page(request, response, provider_id):
    """Our CSP says form-action 'self', and browsers apply it to the redirects after a form is sent: the sign-in
    button's POST may not be answered with a redirect to the provider. A page that moves on by itself (meta
    refresh, and a Continue link) is a new navigation, which form-action does not restrict."""
    if response.status_code not in (301, 302, 303, 307, 308):
        return response
    location = response["Location"]
    target = urlsplit(location)
    if not target.netloc or target.netloc == request.get_host():
        return response
    provider = providers_of(request.organization).filter(provider_id=provider_id).first()
    page = render(request, "socialaccount/sso_redirect.html", {
        "redirect_to": location, "provider_name": provider.name if provider else "",
    })
    page["Cache-Control"] = "no-store"
    return page


@login_not_required
def login(request, provider_id):
    refused = _provider_or_response(request, provider_id)
    if refused is not None:
        return refused
    try:
        response = OAuth2LoginView.adapter_view(SignatureCheckingAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist as error:
        raise Http404 from error
    return _leave_by_page(request, response, provider_id)


@login_not_required
def callback(request, provider_id):
    refused = _provider_or_response(request, provider_id)
    if refused is not None:
        return refused
    try:
        return OAuth2CallbackView.adapter_view(SignatureCheckingAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist as error:
        raise Http404 from error


# --- My profile → linked sign-in accounts (allauth's /accounts/3rdparty/) ---------------------

def _disconnect_form_base():
    from allauth.socialaccount.forms import DisconnectForm as AllauthDisconnectForm

    return AllauthDisconnectForm


class DisconnectForm(_disconnect_form_base()):
    """Only the links of this host's organisation are listed (another organisation's, or a removed
    provider's, have no provider here)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = getattr(self.request, "organization", None)
        ids = list(providers_of(organization).values_list("provider_id", flat=True))
        self.accounts = self.accounts.filter(provider__in=ids)
        self.fields["account"].queryset = self.accounts
