"""Users sign in with their email address; what they may do in an organisation is their Membership."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from orgs.models import OrganizationOwned, Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


def profile_photo_path(instance, filename):
    # A random name: photo URLs must not be guessable from the user id.
    extension = filename.rsplit(".", 1)[-1].lower()[:5] if "." in filename else "jpg"
    return f"profile-photos/{uuid.uuid4().hex}.{extension}"


class User(AbstractUser):
    username = None
    email = models.EmailField(_("email address"), unique=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    photo = models.ImageField(_("profile photo"), upload_to=profile_photo_path, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "email"]

    def __str__(self):
        return self.get_full_name() or self.email

    def get_full_name(self):
        return " ".join(part for part in (self.first_name, self.last_name) if part).strip()


class OidcProvider(OrganizationOwned):
    """Single sign-on for one organisation's employees through an OpenID Connect issuer (F-AUTH-4).

    `provider_id` names the provider in URLs and in allauth's SocialAccount rows (provider=<provider_id>,
    uid=<sub>). It is derived from the issuer (see accounts.sso.provider_id_for), so changing the issuer
    gives a new id and accounts linked under the old issuer never match again.
    """

    name = models.CharField(_("name"), max_length=80, help_text=_("For you, for example “Google Workspace”."))
    enabled = models.BooleanField(_("enabled"), default=True)
    button_text = models.CharField(
        _("button text"), max_length=80, help_text=_("Shown on the sign-in page, for example “Sign in with Google”."),
    )
    issuer = models.URLField(
        _("issuer"), max_length=300,
        help_text=_(
            "The provider's issuer address; its settings are read from <issuer>/.well-known/openid-configuration. "
            "Google: https://accounts.google.com. Microsoft: https://login.microsoftonline.com/<tenant id>/v2.0."
        ),
    )
    allowed_domains = models.CharField(
        _("allowed domains"), max_length=500, blank=True,
        help_text=_(
            "Comma-separated, for example “example.com, example.org”: only accounts of these domains may sign in "
            "(the hosted-domain claim, else the email's domain). Empty: any domain."
        ),
    )
    client_id = models.CharField(_("client ID"), max_length=300)
    client_secret_sealed = models.BinaryField(editable=False, default=bytes)
    create_users_on_login = models.BooleanField(
        _("create users on login"), default=False,
        help_text=_("Someone unknown who signs in through this provider becomes an employee (within your plan)."),
    )
    new_user_role = models.CharField(
        _("role for created users"), max_length=20, choices=Role.choices, default=Role.PRACTITIONER,
    )
    new_user_departments = models.ManyToManyField(
        "orgs.Department", verbose_name=_("departments for created users"), blank=True, related_name="+",
    )
    key = models.CharField(max_length=16, editable=False)
    provider_id = models.CharField(max_length=40, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("single sign-on provider")
        verbose_name_plural = _("single sign-on providers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="oidcprovider_name_unique_in_org"),
            models.UniqueConstraint(fields=["organization", "issuer"], name="oidcprovider_issuer_unique_in_org"),
            models.UniqueConstraint(fields=["key"], name="oidcprovider_key_unique"),
            models.CheckConstraint(condition=~models.Q(provider_id=""), name="oidcprovider_provider_id_not_empty"),
            models.CheckConstraint(condition=~models.Q(client_id=""), name="oidcprovider_client_id_not_empty"),
            models.CheckConstraint(
                condition=models.Q(new_user_role__in=[r.value for r in Role]), name="oidcprovider_role_valid",
            ),
        ]

    def __str__(self):
        return self.name

    def domain_list(self):
        return [part for part in (self.allowed_domains or "").split(",") if part]

    @property
    def client_secret(self):
        from .sso import secret_open

        return secret_open(self)

    @property
    def has_secret(self):
        return bool(self.client_secret_sealed)
