"""Organisations, their departments and employees, and the audit log.

Every domain row belongs to an organisation. Organization itself is looked up by host (never by a
user-supplied id), so it has a plain manager; everything below it uses a scoped manager.
"""

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .scoping import OrgScopedManager
from .security import ORIGIN

RESERVED_SUBDOMAINS = {
    "www", "admin", "api", "app", "static", "media", "mail", "smtp", "turn", "stun", "support",
    "status", "portal", "help", "docs", "assets", "cdn",
}

subdomain_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    _("Use lowercase letters, digits and hyphens; start and end with a letter or digit."),
)


def validate_subdomain_not_reserved(value):
    if value in RESERVED_SUBDOMAINS:
        raise ValidationError(_("“%(value)s” is reserved; choose another subdomain."), params={"value": value})


def origin_lines(text):
    """The origins of an allow-list field: one per line, lower-case, without a trailing slash."""
    return [line.strip().rstrip("/").lower() for line in (text or "").splitlines() if line.strip()]


def validate_origin_list(value):
    bad = [line for line in origin_lines(value) if not ORIGIN.match(line)]
    if bad:
        raise ValidationError(
            _("Write each site as https://host or https://host:port, nothing after it: %(lines)s"),
            params={"lines": ", ".join(bad)},
        )


def time_zone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name]


class TwoFactorPolicy(models.TextChoices):
    OFF = "off", _("Not offered")
    ALLOWED = "allowed", _("Allowed (users are reminded to turn it on)")
    REQUIRED = "required", _("Required for every employee")


class VideoFit(models.TextChoices):
    COVER = "cover", _("Fill the tile (may crop the edges)")
    CONTAIN = "contain", _("Show the whole picture (may add bars)")


class Organization(models.Model):
    # --- identity (platform staff) ---
    name = models.CharField(_("name"), max_length=120)
    subdomain = models.CharField(
        _("subdomain"),
        max_length=63,
        unique=True,
        validators=[subdomain_validator, validate_subdomain_not_reserved],
        help_text=_("The organisation's address: <subdomain>.<platform domain>. Cannot be changed later."),
    )
    site = models.OneToOneField("wagtailcore.Site", on_delete=models.PROTECT, related_name="organization")
    root_page = models.OneToOneField("wagtailcore.Page", on_delete=models.PROTECT, related_name="+")
    collection = models.OneToOneField(
        "wagtailcore.Collection", on_delete=models.PROTECT, related_name="organization"
    )
    admins_group = models.OneToOneField("auth.Group", on_delete=models.PROTECT, related_name="+")
    department_admins_group = models.OneToOneField("auth.Group", on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # --- plan (platform staff) ---
    plan_name = models.CharField(_("plan"), max_length=60, default="Standard")
    max_users = models.PositiveIntegerField(
        _("maximum number of users"), default=10, validators=[MinValueValidator(1)]
    )
    max_departments = models.PositiveIntegerField(
        _("maximum number of departments"), null=True, blank=True, help_text=_("Empty means no limit.")
    )

    # --- general (organisation admin) ---
    logo = models.ForeignKey(
        settings.WAGTAILIMAGES_IMAGE_MODEL,
        verbose_name=_("logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Shown top-left on every screen, scaled to fit 180×50 pixels."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Amsterdam", choices=time_zone_choices)
    default_language = models.CharField(
        _("default language"), max_length=8, choices=settings.LANGUAGES, default="nl",
        help_text=_("Used for visitors whose browser asks for none of our languages."),
    )

    # --- contact information, shown to clients ---
    contact_email = models.EmailField(_("email"), blank=True)
    contact_phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("address"), blank=True)
    website = models.URLField(_("web site"), blank=True)

    # --- forms of address for practitioners ---
    address_form_nl = models.CharField(_("form of address (Dutch)"), max_length=40, blank=True, default="dokter")
    address_form_en = models.CharField(_("form of address (English)"), max_length=40, blank=True, default="Dr.")
    address_form_de = models.CharField(_("form of address (German)"), max_length=40, blank=True, default="Dr.")
    address_form_es = models.CharField(_("form of address (Spanish)"), max_length=40, blank=True, default="Dr.")

    # --- privacy and segregation ---
    strict_departments = models.BooleanField(
        _("strictly segregated departments"), default=False,
        help_text=_(
            "Practitioners and department admins see only the clients and appointments of their own "
            "departments; organisation admins see everything. Appointments can be made with a department."
        ),
    )
    strict_clients = models.BooleanField(
        _("strictly segregated clients"), default=False,
        help_text=_("A practitioner sees only their own clients, and appointments are made only with them."),
    )
    anonymise_after_days = models.PositiveIntegerField(
        _("anonymise appointments older than (days)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(36500)],
        help_text=_(
            "A nightly job removes client data from older appointments; only date, time and practitioner "
            "remain. This cannot be undone. Empty means never."
        ),
    )
    allow_remote_support = models.BooleanField(
        _("allow remote support access"), default=False,
        help_text=_(
            "Platform support staff may act as an employee to help you; every session is recorded in your audit log."
        ),
    )
    session_idle_minutes = models.PositiveIntegerField(
        _("sign out after inactivity (minutes)"), default=12 * 60,
        validators=[MinValueValidator(5), MaxValueValidator(7 * 24 * 60)],
        help_text=_("Employees who do nothing for this long are signed out and sign in again."),
    )
    two_factor_policy = models.CharField(
        _("two-factor authentication"), max_length=10, choices=TwoFactorPolicy.choices, default=TwoFactorPolicy.ALLOWED,
        help_text=_("When required, employees cannot use the portal or admin until they have set it up."),
    )

    # --- appointments and messages ---
    consult_link_opens_minutes = models.PositiveIntegerField(
        _("link opens (minutes before the start)"), default=60, validators=[MaxValueValidator(24 * 60)],
        help_text=_("Before this, the client's link shows when the waiting room opens."),
    )
    consult_link_closes_minutes = models.PositiveIntegerField(
        _("link closes (minutes after the start)"), default=60, validators=[MaxValueValidator(24 * 60)],
        help_text=_("After this, the client's link says it has expired and asks them to contact you."),
    )
    force_start = models.BooleanField(
        _("force-start appointments"), default=False,
        help_text=_("Practitioners can start a consult before the client arrives; the client then goes straight in."),
    )
    do_not_send_emails = models.BooleanField(
        _("do not send emails"), default=False,
        help_text=_("No confirmation, reminder or questionnaire emails go to clients; you share links yourself."),
    )
    notify_bounces = models.BooleanField(
        _("report bounced appointment emails"), default=True,
        help_text=_(
            "The department admin (or, if there is none, the organisation admin) is told which address failed and why."
        ),
    )
    show_remaining_slots = models.BooleanField(
        _("show remaining booking slots in the top bar"), default=False,
        help_text=_("Practitioners see in the portal's top bar how many bookable slots they have left today."),
    )
    sms_enabled = models.BooleanField(
        _("SMS reminders"), default=False,
        help_text=_(
            "Not available yet: SMS needs an SMS provider, and none has been set up for this platform. Switching "
            "this on sends no SMS; reminders go by email only."
        ),
    )
    client_app_enabled = models.BooleanField(
        _("client app (PIN / QR code)"), default=False,
        help_text=_("Clients can install the patient portal on their phone and sign in with a PIN or QR code."),
    )

    # --- patient portal (F-PORTAL) ---
    portal_pin_minutes = models.PositiveIntegerField(
        _("portal PIN valid for (minutes)"), default=10, validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("How long the 6-digit PIN emailed to a client stays valid; at most 30 minutes."),
    )
    access_code_days = models.PositiveIntegerField(
        _("QR codes valid for (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("A QR code for the client app stops working after this many days, or when you revoke it."),
    )
    patient_session_minutes = models.PositiveIntegerField(
        _("patient portal signs out after (minutes idle)"), default=20,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text=_("A client who does nothing in the portal for this long must sign in again."),
    )

    # --- waiting room ---
    doorbell_sound = models.BooleanField(
        _("doorbell sound"), default=True, help_text=_("Plays when someone enters a waiting room you are watching."),
    )
    chat_in_waiting_room = models.BooleanField(
        _("chat in the waiting room"), default=False,
        help_text=_("Waiting clients can send messages to the practitioner before the consult starts."),
    )
    questionnaire_in_waiting_room = models.BooleanField(
        _("questionnaire in the waiting room"), default=False,
        help_text=_("Clients can fill in their open questionnaires while they wait."),
    )
    disclaimer_enabled = models.BooleanField(
        _("disclaimer before the waiting room"), default=False,
        help_text=_("Clients must accept the text below before they enter the waiting room."),
    )
    disclaimer_text = models.TextField(
        _("disclaimer text"), blank=True, help_text=_("Shown when the disclaimer switch above is on."),
    )
    explainer_video_url = models.URLField(
        _("explainer video in the waiting room"), blank=True, help_text=_("A video link shown to waiting clients."),
    )
    more_info_iframe_url = models.URLField(
        _("“more information” page"), blank=True,
        help_text=_("A page of your own, opened from a “more information” button in the waiting room."),
    )

    # --- texts for clients (F-TEXT-3), per language, with the same *|codes|* as the emails ---
    waiting_room_text_nl = models.TextField(
        _("waiting-room text (Dutch)"), blank=True, help_text=_("Empty: a standard welcome is shown."),
    )
    waiting_room_text_en = models.TextField(
        _("waiting-room text (English)"), blank=True, help_text=_("Empty: a standard welcome is shown."),
    )
    waiting_room_text_de = models.TextField(
        _("waiting-room text (German)"), blank=True, help_text=_("Empty: a standard welcome is shown."),
    )
    waiting_room_text_es = models.TextField(
        _("waiting-room text (Spanish)"), blank=True, help_text=_("Empty: a standard welcome is shown."),
    )
    after_consult_text_nl = models.TextField(
        _("message after the consult (Dutch)"), blank=True,
        help_text=_("Shown to the client when the consult ends, e.g. a follow-up phone number."),
    )
    after_consult_text_en = models.TextField(
        _("message after the consult (English)"), blank=True,
        help_text=_("Shown to the client when the consult ends, e.g. a follow-up phone number."),
    )
    after_consult_text_de = models.TextField(
        _("message after the consult (German)"), blank=True,
        help_text=_("Shown to the client when the consult ends, e.g. a follow-up phone number."),
    )
    after_consult_text_es = models.TextField(
        _("message after the consult (Spanish)"), blank=True,
        help_text=_("Shown to the client when the consult ends, e.g. a follow-up phone number."),
    )

    # --- consultation room ---
    open_in_browser_on_iphone = models.BooleanField(
        _("open consults in the browser on iPhone"), default=True,
        help_text=_(
            "There is no app to open: consults always open in the browser, on iPhones too. This switch is kept for "
            "compatibility and changes nothing."
        ),
    )
    allow_background_effects = models.BooleanField(
        _("allow background blur or replacement"), default=True,
        help_text=_("Participants can blur their background or replace it with an image you choose."),
    )
    warn_background_active = models.BooleanField(
        _("warn when a replaced background is still on"), default=True,
        help_text=_(
            "The room remembers a blurred background for the next consult on the same device. With this on, "
            "practitioners and clients whose blur is switched on again by itself see a notice when the consult "
            "starts, with a button to turn it off."
        ),
    )
    file_sharing = models.BooleanField(
        _("file sharing"), default=True, help_text=_("Shared files are deleted from the server when the consult ends."),
    )
    screen_sharing = models.BooleanField(
        _("screen sharing"), default=True,
        help_text=_("Participants can show a screen or a window during the consult."),
    )
    video_fit = models.CharField(
        _("video fit"), max_length=10, choices=VideoFit.choices, default=VideoFit.COVER,
        help_text=_("How camera pictures fill the video tiles in the consultation room."),
    )
    device_settings_first = models.BooleanField(
        _("always show the device settings first"), default=False,
        help_text=_("Camera, microphone and speaker are checked before anyone enters the waiting room."),
    )
    allow_resolution_change = models.BooleanField(
        _("allow changing the video resolution"), default=True,
        help_text=_("Participants can lower the resolution on a slow connection or raise it for detail."),
    )
    camera_failure_check = models.BooleanField(
        _("camera check when a camera fails"), default=True,
        help_text=_("When a camera stops working the consult pauses and the user is sent to a camera check."),
    )
    evaluation_survey_url = models.URLField(
        _("evaluation survey after the consult"), blank=True,
        help_text=_("Shown to the client, in a frame, when the consult ends."),
    )
    custom_room_template = models.TextField(
        _("custom consultation room template"), blank=True,
        help_text=_(
            "Your own HTML (text, headings, links, images), shown to clients at the top of the waiting room and "
            "of the consultation room, e.g. your logo and a line about your practice. Scripts, styles, frames, "
            "forms and event handlers are removed; empty: nothing is shown."
        ),
    )

    # --- chat ---
    chat_open_after_consult = models.BooleanField(
        _("chat stays open after the consult"), default=True,
        help_text=_("The client can keep sending messages after the consult has ended."),
    )
    delete_chat_after_consult = models.BooleanField(
        _("delete the chat after the consult"), default=False,
        help_text=_("Consult chat messages are removed when the consult ends."),
    )
    public_chat_widget = models.BooleanField(
        _("public chat widget"), default=False, help_text=_("Visitors of your web site can send you chat messages."),
    )
    chat_unread_email_minutes = models.PositiveIntegerField(
        _("email clients about unread messages after (minutes)"), default=60,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text=_("A client gets an email with a link to the patient portal when a message from you waits unread "
                    "this long. The email never contains the message itself. 0: never."),
    )

    # --- widgets (F-WIDGET-4) ---
    widget_allowed_origins = models.TextField(
        _("sites that may show your widgets"), blank=True, validators=[validate_origin_list],
        help_text=_(
            "One address per line, for example https://www.example.com. Only these sites can show your walk-in "
            "and booking widgets in a frame. Empty: any site can."
        ),
    )

    objects = models.Manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(subdomain=""), name="organization_subdomain_not_empty"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def hostname(self):
        return f"{self.subdomain}.{settings.BASE_DOMAIN}"

    @property
    def base_url(self):
        return public_url_for_host(self.hostname)

    def address_form(self, language_code):
        return getattr(self, f"address_form_{language_code[:2]}", "") or self.address_form_en

    def clean(self):
        super().clean()
        # Deleting the chat when a consult ends leaves nothing to keep open (F-CHAT-5): the two contradict.
        if self.delete_chat_after_consult and self.chat_open_after_consult:
            raise ValidationError({"delete_chat_after_consult": _(
                "The chat cannot be deleted after the consult while it stays open after the consult. Switch off "
                "“chat stays open after the consult” first, or keep the chat.")})


def public_url_for_host(hostname):
    scheme, port = settings.PUBLIC_SCHEME, settings.PUBLIC_PORT
    default_port = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{hostname}" if port == default_port else f"{scheme}://{hostname}:{port}"


class Department(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(_("name"), max_length=100)
    colour = models.CharField(
        _("colour"), max_length=7, default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #rrggbb."))],
        help_text=_("Used to tell departments apart in agendas and lists."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgScopedManager()
    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="department_name_unique_in_org"),
        ]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", _("Organisation admin")
    DEPARTMENT_ADMIN = "department_admin", _("Department admin")
    PRACTITIONER = "practitioner", _("Practitioner")


class Membership(models.Model):
    """An employee: a user's place in one organisation."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.PRACTITIONER)
    departments = models.ManyToManyField(Department, verbose_name=_("departments"), blank=True, related_name="members")
    job_title = models.CharField(
        _("job title"), max_length=80, blank=True,
        help_text=_("For example “GP” or “physiotherapist”; shown to clients."),
    )
    is_active = models.BooleanField(
        _("active"), default=True,
        help_text=_("Deactivated employees cannot sign in and do not count towards the plan."),
    )
    walk_in_open = models.BooleanField(_("open for walk-ins now"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgScopedManager()
    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["user__last_name", "user__first_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_in_org"),
        ]

    def __str__(self):
        return self.user.get_full_name() or self.user.email

    def department_names(self):
        return ", ".join(d.name for d in self.departments.all())

    @property
    def is_org_admin(self):
        return self.role == Role.ORG_ADMIN

    @property
    def is_department_admin(self):
        return self.role == Role.DEPARTMENT_ADMIN


class OrganizationOwned(models.Model):
    """The base of every domain row: it belongs to an organisation and is read through the scoped manager
    (a query outside an organisation scope raises)."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")

    objects = OrgScopedManager()
    wagtail_reference_index_ignore = True

    class Meta:
        abstract = True


class ApiKey(OrganizationOwned):
    """A key for the organisation's REST API (F-ORG-4). The plain key is shown once, when it is made.

    Key format: ``oc_<prefix>_<secret>``. The prefix is public (lists show it; look-ups go by it), the secret
    is 32 bytes from `secrets` (256 bits). Only SHA-256 of the whole key is stored: a slow password hash
    (PBKDF2, argon2) protects low-entropy secrets people choose against guessing from a stolen database; a
    256-bit random secret cannot be guessed by any number of fast hashes, so a fast hash loses nothing and
    keeps every API call cheap.
    """

    name = models.CharField(_("name"), max_length=100, help_text=_("What the key is for, e.g. “Agenda sync”."))
    prefix = models.CharField(_("key id"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    rotated_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="rotated_to", verbose_name=_("replaces"))

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self):
        return self.revoked_at is None


class ApiKeyMembership(Membership):
    """The member an API call acts as: an organisation-admin-like integration with no user and no
    departments (never saved; `orgs.api_keys.api_member` makes one per call). `user` is None, so services
    write `created_by`/audit actor None; the audit row names the key instead (orgs.services.audit_acting_as)."""

    user = None
    is_api_key = True

    class Meta:
        proxy = True

    def __str__(self):
        return str(_("API key %(key)s") % {"key": self.api_key}) if hasattr(self, "api_key") else "API key"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


AUDIT_ACTIONS = {
    "organization.create": _("Organisation created"),
    "settings.update": _("Settings changed"),
    "department.create": _("Department added"),
    "department.update": _("Department changed"),
    "department.delete": _("Department deleted"),
    "employee.create": _("Employee added"),
    "employee.update": _("Employee changed"),
    "employee.invite": _("Invitation sent again"),
    "profile.update": _("Own profile changed"),
    "account.sign_in": _("Signed in"),
    "remote_support.sign_in": _("Platform support signed in"),
    "remote_support.start": _("Remote support started"),
    "remote_support.action": _("Change during remote support"),
    "remote_support.end": _("Remote support ended"),
    "mfa.activate": _("Two-factor authentication activated"),
    "mfa.deactivate": _("Two-factor authentication deactivated"),
    "mfa.disable": _("Two-factor authentication disabled by an admin"),
    "client.create": _("Client added"),
    "client.update": _("Client changed"),
    "client.view": _("Client record viewed"),
    "availability.create": _("Hours added"),
    "availability.update": _("Hours changed"),
    "availability.delete": _("Hours removed"),
    "appointment.create": _("Appointment made"),
    "appointment.update": _("Appointment changed"),
    "appointment.reschedule": _("Appointment moved"),
    "appointment.cancel": _("Appointment cancelled"),
    "appointment.charge": _("Appointment charge changed"),
    "payment.receipt_download": _("Payment receipt downloaded"),
    "appointments.anonymise": _("Old appointments anonymised"),
    "waiting.call_in": _("Called in from the waiting room"),
    "consult.start": _("Consult started"),
    "consult.end": _("Consult ended"),
    "consult.participant_add": _("Participant added to a consult"),
    "announcement.create": _("Announcement made"),
    "announcement.delete": _("Announcements deleted"),
    "emailset.create": _("Email set added"),
    "emailset.update": _("Email set changed"),
    "emailset.delete": _("Email set deleted"),
    "emailtemplate.create": _("Email text added"),
    "emailtemplate.update": _("Email text changed"),
    "emailtemplate.delete": _("Email text deleted"),
    "participantgroup.create": _("Participant group added"),
    "participantgroup.update": _("Participant group changed"),
    "participantgroup.delete": _("Participant group deleted"),
    "questionnaire.create": _("Questionnaire added"),
    "questionnaire.update": _("Questionnaire changed"),
    "questionnaire.delete": _("Questionnaire deleted"),
    "questionnaire.copy": _("Questionnaire duplicated"),
    "questionnaire.send": _("Questionnaire sent to a client"),
    "answers.view": _("Questionnaire answers viewed"),
    "answers.pdf": _("Questionnaire answers downloaded as PDF"),
    "answers.text": _("Questionnaire answers downloaded as text"),
    "answers.image": _("Picture from a questionnaire viewed"),
    "portal.pin_sent": _("Portal PIN sent to a client"),
    "portal.qr_created": _("QR code made for a client"),
    "portal.qr_revoked": _("QR code revoked"),
    "walkinwidget.create": _("Walk-in widget added"),
    "walkinwidget.update": _("Walk-in widget changed"),
    "walkinwidget.delete": _("Walk-in widget deleted"),
    "bookingwidget.create": _("Booking widget added"),
    "bookingwidget.update": _("Booking widget changed"),
    "bookingwidget.delete": _("Booking widget deleted"),
    "sso.create": _("Single sign-on provider added"),
    "sso.update": _("Single sign-on provider changed"),
    "sso.delete": _("Single sign-on provider deleted"),
    "sso.user_create": _("Employee created by a single sign-on login"),
    "apikey.create": _("API key created"),
    "apikey.rotate": _("API key rotated"),
    "apikey.revoke": _("API key revoked"),
    "signin.locked": _("Sign-in locked after failed attempts"),
    "signin.unlocked": _("Sign-in lock lifted"),
    "payment_settings.update": _("Payment settings changed"),
    "rate.create": _("Rate added"),
    "rate.update": _("Rate changed"),
    "rate.delete": _("Rate deleted"),
    "vatrule.create": _("VAT rule added"),
    "vatrule.update": _("VAT rule changed"),
    "vatrule.delete": _("VAT rule deleted"),
    "payment.list": _("Payments list viewed"),
    "payment.export": _("Payments exported (CSV)"),
    "chat.channel_create": _("Chat started with a client"),
    "chat.channel_join": _("Joined a client's chat"),
    "chat.access_grant": _("Client's chat access granted"),
    "chat.access_revoke": _("Client's chat access revoked"),
    "chat.history_delete": _("Chat history deleted"),
    "chat.view": _("Chat read"),
}


@cache
def _model_fields(model_name):
    """Fields of the model an audit row names (by model name), for readable labels; {} when unknown.
    Cached: the audit list asks once per row."""
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return {f.name: f for f in model._meta.get_fields() if hasattr(f, "verbose_name")}
    return {}


class AuditEvent(models.Model):
    """One thing someone did to people or settings. Rows are only ever added."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="audit_events")
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("who"), max_length=200, help_text=_("Kept when the account is removed."))
    action = models.CharField(_("action"), max_length=60, db_index=True)
    target_type = models.CharField(_("object type"), max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # Reads of patient data (F-FORM-7): whose record it was, and in what capacity the reader acted.
    subject_label = models.CharField(_("whose data"), max_length=200, blank=True)
    acting_for = models.CharField(_("acting for"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = OrgScopedManager(manager_class=models.Manager.from_queryset(AuditEventQuerySet))
    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label}: {self.action} {self.target_label}"

    def action_label(self):
        return AUDIT_ACTIONS.get(self.action, self.action)

    def changes_summary(self):
        """"Strictly segregated departments: no → yes" in the reader's language, from the stored raw values."""
        fields = _model_fields(self.target_type)

        def shown(field, value):
            if value in (None, "", []):
                return "—"
            if isinstance(value, bool):
                return str(_("yes") if value else _("no"))
            if isinstance(value, list):
                return ", ".join(map(str, value))
            choices = dict(getattr(field, "flatchoices", None) or ())
            return str(choices.get(value, value))

        parts = []
        for name, value in self.changes.items():
            field = fields.get(name)
            label = capfirst(field.verbose_name) if field is not None else name.replace("_", " ")
            if isinstance(value, list) and len(value) == 2:
                parts.append(f"{label}: {shown(field, value[0])} → {shown(field, value[1])}")
            elif name != "key":  # facts rather than changes (a sign-in lockout: path, who, until)
                parts.append(f"{label}: {shown(field, value)}")
        return "; ".join(parts)[:500]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")
