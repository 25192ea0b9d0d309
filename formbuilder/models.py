"""Questionnaires (built on wagtail.contrib.forms' fields) and the answers clients give, sealed at rest.

A Questionnaire is the organisation admin's form; a QuestionnaireResponse is one client's copy of it for
one appointment (or sent from the client record). The response keeps a snapshot of the questions it
was sent with, so that editing or deleting the questionnaire later never changes what an answer meant.
Answers and uploaded images are sealed (formbuilder/crypto.py); the database never holds them in clear.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.contrib.forms.models import AbstractFormField

from consult.private_storage import storages_private
from orgs.models import OrganizationOwned

# Display-only types show text to the client and store nothing.
DISPLAY_ONLY_TYPES = ("title", "paragraph")
FIELD_TYPES = (
    ("title", _("Title (shown only)")),
    ("paragraph", _("Paragraph (shown only)")),
    ("singleline", _("Text")),
    ("multiline", _("Text area")),
    ("multiselect", _("Select (several)")),
    ("dropdown", _("Drop-down")),
    ("checkbox", _("Checkbox")),
    ("checkboxes", _("Checkboxes")),
    ("radio", _("Radio buttons")),
    ("number", _("Number")),
    ("email", _("Email")),
    ("date", _("Date")),
    ("country", _("Country")),
    ("image", _("Image upload")),
)
CHOICE_TYPES = ("multiselect", "dropdown", "checkboxes", "radio")


class Questionnaire(OrganizationOwned, ClusterableModel):
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True,
                             help_text=_("Shown to the client above the questions."))
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True,
        help_text=_("The language of the questions. Versions of one questionnaire in several languages share "
                    "a translation group; the client gets the version in their own language."),
    )
    translation_key = models.UUIDField(_("translation group"), default=uuid.uuid4, db_index=True, editable=False)
    departments = models.ManyToManyField(
        "orgs.Department", verbose_name=_("departments"), blank=True, related_name="questionnaires",
        help_text=_("Only these departments can send it. Empty: every department."),
    )
    is_default = models.BooleanField(_("standard questionnaire"), default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["title", "language"]

    def __str__(self):
        if self.language:
            return f"{self.title} ({self.language})"
        return self.title

    def snapshot(self):
        """The questions as they are now, for a response to keep (no patient data in it)."""
        return [
            {
                "clean_name": field.clean_name or field.get_field_clean_name(),
                "label": field.label,
                "field_type": field.field_type,
                "required": field.required and field.field_type not in DISPLAY_ONLY_TYPES,
                "choices": field.choices,
                "default_value": field.default_value,
                "help_text": field.help_text,
            }
            for field in self.fields.all()
        ]


class QuestionnaireField(AbstractFormField):
    questionnaire = ParentalKey(Questionnaire, on_delete=models.CASCADE, related_name="fields")
    field_type = models.CharField(_("field type"), max_length=16, choices=FIELD_TYPES)
    field_type.required_on_save = True

    class Meta(AbstractFormField.Meta):
        verbose_name = _("question")
        verbose_name_plural = _("questions")


class ResponseStatus(models.TextChoices):
    # Their own context: "Started" of a questionnaire is not "Started" of a consult (Spanish: iniciado/iniciada).
    NEW = "new", pgettext_lazy("questionnaire status", "New")
    STARTED = "started", pgettext_lazy("questionnaire status", "Started")
    FINISHED = "finished", pgettext_lazy("questionnaire status", "Finished")


class QuestionnaireResponse(OrganizationOwned):
    """One client's questionnaire: its status, the questions it was sent with, and the sealed answers."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    questionnaire = models.ForeignKey(Questionnaire, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="responses")
    title = models.CharField(_("questionnaire"), max_length=200)
    intro = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    questions = models.JSONField(default=list)
    client = models.ForeignKey("consult.Client", on_delete=models.CASCADE, related_name="questionnaire_responses")
    appointment = models.ForeignKey("consult.Appointment", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="questionnaire_responses")
    # Who may read the answers: whoever may see the client or the appointment (orgs.policy.can_view_answers).
    status = models.CharField(_("status"), max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.NEW)
    answers = models.BinaryField(null=True, blank=True)
    key_id = models.CharField(max_length=32, blank=True, db_index=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("questionnaire answers")
        verbose_name_plural = _("questionnaire answers")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "client"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answers__isnull=True, key_id="") | models.Q(answers__isnull=False) & ~models.Q(
                    key_id=""),
                name="questionnaire_response_key_with_answers",
            ),
        ]

    def __str__(self):
        return f"{self.title}: {self.client}"

    @property
    def seal_context(self):
        return f"response:{self.organization_id}:{self.uuid}".encode()

    @property
    def is_finished(self):
        return self.status == ResponseStatus.FINISHED


def upload_path(instance, filename):
    # A random name: neither the client's file name nor anything about them reaches the disk.
    return f"questionnaires/{instance.organization_id}/{uuid.uuid4().hex}.bin"


class ResponseUpload(OrganizationOwned):
    """An image a client uploaded for a question; the file on disk is sealed like the answers."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    response = models.ForeignKey(QuestionnaireResponse, on_delete=models.CASCADE, related_name="uploads")
    field_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    file = models.FileField(upload_to=upload_path, storage=storages_private, max_length=200)
    key_id = models.CharField(max_length=32, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.field_name} ({self.content_type})"

    @property
    def seal_context(self):
        # Bound to its response and question too: a picture row moved elsewhere does not open.
        return f"upload:{self.organization_id}:{self.response.uuid}:{self.field_name}:{self.uuid}".encode()
