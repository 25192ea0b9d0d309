"""Building the client's form from a response's questions: Wagtail's FormBuilder with our field types.

A questionnaire is shown in steps: every "title" question starts a new step, so a long medical history
becomes a few short pages on a phone, and each step is saved as the client goes.
"""

from types import SimpleNamespace

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from PIL import Image, UnidentifiedImageError
from wagtail.contrib.forms.forms import BaseForm, FormBuilder

from .models import DISPLAY_ONLY_TYPES

# Image types a client may upload, as Pillow names them, with the content type they are served as.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


class DisplayWidget(forms.Widget):
    """Renders a title or paragraph; there is no input, so nothing is ever submitted for it."""

    def __init__(self, kind, text, attrs=None):
        super().__init__(attrs)
        self.kind = kind
        self.text = text

    def render(self, name, value, attrs=None, renderer=None):
        if self.kind == "title":
            return format_html('<h2 class="q-title">{}</h2>', self.text)
        return format_html('<p class="q-paragraph">{}</p>', self.text)

    def value_from_datadict(self, data, files, name):
        return None


class DisplayField(forms.Field):
    display_only = True

    def __init__(self, *, kind, text, **kwargs):
        kwargs.update(required=False, label=text, help_text="")
        kwargs.pop("initial", None)
        super().__init__(widget=DisplayWidget(kind, text), **kwargs)


class ImageUploadField(forms.FileField):
    """An image: one of IMAGE_TYPES (checked by decoding it, not by its name) and at most the set size."""

    is_image_upload = True

    def __init__(self, **kwargs):
        kwargs.pop("initial", None)
        super().__init__(widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMAGE_TYPES.values())}),
                         **kwargs)

    def to_python(self, data):
        upload = super().to_python(data)
        if upload is None:
            return None
        limit = settings.QUESTIONNAIRE_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("This picture is %(size)s; the most you can send is %(limit)s."),
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}, code="too_big",
            )
        try:
            upload.seek(0)
            with Image.open(upload) as image:
                image_format = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise forms.ValidationError(
                _("This file is not a picture we can read. Send a JPEG, PNG, WebP or GIF photo."), code="not_image",
            ) from error
        if image_format not in IMAGE_TYPES:
            raise forms.ValidationError(
                _("Pictures of this type cannot be sent. Send a JPEG, PNG, WebP or GIF photo."), code="bad_type",
            )
        upload.seek(0)
        upload.image_content_type = IMAGE_TYPES[image_format]
        return upload


class QuestionnaireFormBuilder(FormBuilder):
    def create_title_field(self, field, options):
        return DisplayField(kind="title", text=field.label)

    def create_paragraph_field(self, field, options):
        return DisplayField(kind="paragraph", text=field.label)

    def create_singleline_field(self, field, options):
        options["max_length"] = 500
        return forms.CharField(**options)

    def create_multiline_field(self, field, options):
        options["max_length"] = 10000
        options["widget"] = forms.Textarea(attrs={"rows": 4})
        return forms.CharField(**options)

    def create_date_field(self, field, options):
        options["widget"] = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        return forms.DateField(**options)

    def create_number_field(self, field, options):
        options["widget"] = forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"})
        return forms.DecimalField(max_digits=15, decimal_places=4, **options)

    def create_multiselect_field(self, field, options):
        field_ = super().create_multiselect_field(field, options)
        field_.widget = forms.CheckboxSelectMultiple(choices=field_.choices)
        return field_

    def create_dropdown_field(self, field, options):
        options["choices"] = [("", "—")] + self.get_formatted_field_choices(field)
        return forms.ChoiceField(**options)

    def create_country_field(self, field, options):
        options["choices"] = [("", "—")] + list(countries)
        return forms.TypedChoiceField(**options)

    def create_image_field(self, field, options):
        return ImageUploadField(**options)

    def get_field_options(self, field):
        options = super().get_field_options(field)
        if field.field_type in DISPLAY_ONLY_TYPES:
            options["required"] = False
        return options

    def get_form_class(self):
        return type("QuestionnaireForm", (BaseForm,), self.formfields)


def as_fields(questions):
    """The snapshot's questions as the objects Wagtail's FormBuilder reads."""
    return [SimpleNamespace(**question) for question in questions]


def questionnaire_steps(questions):
    """The questions split into steps: a title question starts a new step (unless nothing came before)."""
    steps = [[]]
    for question in questions:
        if question["field_type"] == "title" and any(
                q["field_type"] not in DISPLAY_ONLY_TYPES for q in steps[-1]):
            steps.append([])
        steps[-1].append(question)
    return [step for step in steps if step]


def form_class_for(questions):
    return QuestionnaireFormBuilder(as_fields(questions)).get_form_class()


def answer_fields(questions):
    """The questions that take an answer (display-only ones left out)."""
    return [q for q in questions if q["field_type"] not in DISPLAY_ONLY_TYPES]
