"""Organisations made before the questionnaire email get its default texts in their default email set."""

from django.db import migrations

from consult.default_texts import DEFAULT_EMAIL_TEXTS

# Texts are data (not gettext): the organisation edits its copies afterwards; existing ones are kept.
QUESTIONNAIRE_TEXTS = DEFAULT_EMAIL_TEXTS["questionnaire"]


def add_texts(apps, schema_editor):
    EmailSet = apps.get_model("consult", "EmailSet")
    EmailTemplate = apps.get_model("consult", "EmailTemplate")
    for email_set in EmailSet.objects.filter(is_default=True):
        for language, (subject, body) in QUESTIONNAIRE_TEXTS.items():
            EmailTemplate.objects.get_or_create(
                email_set=email_set, kind="questionnaire", language=language,
                defaults={"organization_id": email_set.organization_id, "subject": subject, "body": body},
            )


class Migration(migrations.Migration):
    dependencies = [("consult", "0007_email_kind_questionnaire")]

    operations = [migrations.RunPython(add_texts, migrations.RunPython.noop)]
