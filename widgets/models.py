"""Walk-in and booking widgets: small public pages an organisation frames on its own or other sites.

A widget is found by its random public `key` (never by id) and belongs to one organisation; what it
shows is limited to that organisation's practitioners in the widget's departments (none = all).
"""

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail.models import PreviewableMixin

from orgs.scoping import OrgScopedManager

COLOUR_RE = r"^#[0-9a-fA-F]{6}$"
colour_validator = RegexValidator(COLOUR_RE, _("Enter a colour as #rrggbb."))


def new_widget_key():
    # 128 random bits: the key is the widget's only public name and must not be guessable.
    return secrets.token_urlsafe(16)


class IntakeChoice(models.TextChoices):
    OFF = "off", _("Not asked")
    OPTIONAL = "optional", _("Asked, optional")
    REQUIRED = "required", _("Asked, required")


def colour_field(label, default):
    return models.CharField(label, max_length=7, default=default, validators=[colour_validator])


def intake_field(label, default=IntakeChoice.OFF):
    return models.CharField(label, max_length=10, choices=IntakeChoice.choices, default=default)


class Widget(PreviewableMixin, models.Model):
    """What both widgets share: identity, looks, texts and the questions asked of the visitor."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="+", editable=False
    )
    key = models.CharField(_("public key"), max_length=32, unique=True, default=new_widget_key, editable=False)
    name = models.CharField(
        _("name"), max_length=100, help_text=_("For your own overview; visitors do not see it."),
    )
    departments = models.ManyToManyField(
        "orgs.Department", verbose_name=_("departments"), blank=True, related_name="+",
        help_text=_("Only practitioners of these departments are offered. None selected: all departments."),
    )

    # --- texts and colours (step 2) ---
    title = models.CharField(
        _("title"), max_length=120, blank=True,
        help_text=_("Leave empty for a standard title in the visitor's language (for a site in several languages)."),
    )
    text = models.TextField(
        _("text"), blank=True,
        help_text=_("Shown under the title. Simple formatting (bold, links, lists) is kept. Leave empty for a "
                    "standard text in the visitor's language."),
    )
    title_colour = colour_field(_("title colour"), "#1e3a8a")
    text_colour = colour_field(_("text colour"), "#1f2937")
    background_colour = colour_field(_("background colour"), "#ffffff")
    button_colour = colour_field(_("button colour"), "#1d4ed8")
    button_text_colour = colour_field(_("button text colour"), "#ffffff")

    # --- questions asked of the visitor (step 3); the name is always asked ---
    ask_date_of_birth = intake_field(_("date of birth"))
    ask_email = intake_field(_("email address"), IntakeChoice.OPTIONAL)
    ask_phone = intake_field(_("phone number"))
    ask_client_number = intake_field(_("client number"))
    ask_accept_terms = models.BooleanField(
        _("ask to accept terms"), default=False,
        help_text=_("The visitor must tick a box accepting the terms below before continuing."),
    )
    terms_text = models.CharField(
        _("terms text"), max_length=300, blank=True, help_text=_("For example “I accept the privacy statement.”"),
    )
    terms_url = models.URLField(_("terms link"), blank=True, help_text=_("A page with the full terms."))

    # --- images and style (step 4) ---
    logo = models.ForeignKey(
        "cms.OrgImage", verbose_name=_("logo"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    background_image = models.ForeignKey(
        "cms.OrgImage", verbose_name=_("background image"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    custom_css = models.TextField(
        _("custom CSS"), blank=True,
        help_text=_("Extra styles for this widget. Anything that could load other sites' content is refused."),
    )

    # --- paid consults (F-PAY-2) ---
    rate = models.ForeignKey(
        "payments.Rate", verbose_name=_("rate"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Visitors pay this rate online before the waiting room opens. Empty: free. If the rate is "
                    "deleted or made inactive, the widget becomes free."),
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgScopedManager()
    wagtail_reference_index_ignore = True

    url_name = None  # set by each concrete widget

    class Meta:
        abstract = True
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="%(class)s_name_unique_in_org"),
            models.CheckConstraint(condition=~Q(key=""), name="%(class)s_key_not_empty"),
            models.CheckConstraint(
                condition=Q(title_colour__regex=COLOUR_RE) & Q(text_colour__regex=COLOUR_RE)
                & Q(background_colour__regex=COLOUR_RE) & Q(button_colour__regex=COLOUR_RE)
                & Q(button_text_colour__regex=COLOUR_RE),
                name="%(class)s_colours_rrggbb",
            ),
            models.CheckConstraint(
                condition=Q(ask_date_of_birth__in=IntakeChoice.values) & Q(ask_email__in=IntakeChoice.values)
                & Q(ask_phone__in=IntakeChoice.values) & Q(ask_client_number__in=IntakeChoice.values),
                name="%(class)s_intake_choices",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        for field in ("logo", "background_image"):
            image = getattr(self, field)
            if image is not None and image.organization_id != self.organization_id:
                errors[field] = _("Choose an image from your own media library.")
        if self.rate_id is not None:
            from payments.models import Rate

            if not Rate.objects.with_scopes_disabled().filter(pk=self.rate_id,
                                                              organization_id=self.organization_id).exists():
                errors["rate"] = _("Choose one of your organisation's rates.")
        from cms.colours import contrast_problem

        # WCAG 2.1 AA: visitors with low vision must be able to read the widget (same rule as the web pages).
        for field, background, what in (
            ("title_colour", self.background_colour, _("title colour")),
            ("text_colour", self.background_colour, _("text colour")),
            ("button_text_colour", self.button_colour, _("button text colour")),
        ):
            problem = contrast_problem(foreground=getattr(self, field), background=background, what=what)
            if problem:
                errors[field] = problem
        if self.ask_accept_terms and not (self.terms_text or self.terms_url):
            errors["terms_text"] = _("Write the terms, or link to them, when visitors must accept them.")
        if self.custom_css and self.organization_id:
            from cms.css_sanitizer import validate_custom_css

            try:
                validate_custom_css(self.organization)(self.custom_css)
            except ValidationError as error:
                errors["custom_css"] = error.messages
        if errors:
            raise ValidationError(errors)

    def display_title(self):
        return self.title or self.default_title

    def display_text(self):
        """The admin's text (HTML, cleaned when shown), or the standard one in the visitor's language."""
        return self.text or format_html("<p>{}</p>", self.default_text)

    def charged_rate(self):
        """The rate visitors pay, or None: no rate, an inactive one, or payments switched off."""
        if self.rate_id is None:
            return None
        from payments.selectors import settings_for

        rate = self.rate
        if not rate.is_active or rate.organization_id != self.organization_id \
                or not settings_for(self.organization).enabled:
            return None
        return rate

    def price_notice(self):
        """"Paid consultation: €45.00 + VAT", in the visitor's language; "" for a free widget."""
        rate = self.charged_rate()
        if rate is None:
            return ""
        from payments.charges import money

        return _("Paid consultation: %(amount)s + VAT") % {"amount": money(rate.amount, rate.currency)}

    def get_absolute_url(self):
        return reverse(self.url_name, kwargs={"key": self.key})

    def get_embed_url(self, request=None):
        """The widget's address on the organisation's own host, for iframes on any site."""
        path = self.get_absolute_url()
        if request is not None and getattr(request, "organization", None) is not None \
                and request.organization.pk == self.organization_id:
            return request.build_absolute_uri(path)
        return self.organization.base_url + path

    def get_embed_script_url(self, request=None):
        """embed.js, which sizes the widget's iframe to its content, from the organisation's host."""
        from django.templatetags.static import static

        script = static("widgets/embed.js")
        if script.startswith(("http://", "https://")):
            return script
        if request is not None and getattr(request, "organization", None) is not None \
                and request.organization.pk == self.organization_id:
            return request.build_absolute_uri(script)
        return self.organization.base_url + script

    # --- live preview in the admin (PreviewableMixin) ---
    def get_preview_template(self, request, mode_name):
        return f"widgets/{self.url_name.split(':')[-1]}.html"  # the page itself, as visitors see it

    def get_preview_context(self, request, mode_name):
        from .views import preview_context

        return preview_context(self, request)


class WalkInWidget(Widget):
    absent_text = models.TextField(
        _("text when nobody is available"), blank=True,
        help_text=_("Shown instead of the list when no practitioner is available for walk-ins."),
    )

    url_name = "widgets:walk_in"
    default_title = _("Walk-in consultation")
    default_text = _("See a practitioner by video now, without an appointment.")

    class Meta(Widget.Meta):
        verbose_name = _("walk-in widget")
        verbose_name_plural = _("walk-in widgets")


class BookingWidget(Widget):
    days_ahead = models.PositiveSmallIntegerField(
        _("days shown"), default=14, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("How many days ahead visitors can book."),
    )

    url_name = "widgets:booking"
    default_title = _("Book a video consultation")
    default_text = _("Choose a time that suits you. You receive the link by email.")

    class Meta(Widget.Meta):
        verbose_name = _("booking widget")
        verbose_name_plural = _("booking widgets")
        constraints = [
            *Widget.Meta.constraints,
            models.CheckConstraint(
                condition=Q(days_ahead__gte=1) & Q(days_ahead__lte=90), name="bookingwidget_days_ahead_range"
            ),
        ]
