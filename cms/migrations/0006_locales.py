"""Locales for the languages web pages can be written in (settings.LANGUAGES: nl, en, de, es)."""

from django.db import migrations

LANGUAGES = ["nl", "en", "de", "es"]


def create_locales(apps, schema_editor):
    Locale = apps.get_model("wagtailcore", "Locale")
    for code in LANGUAGES:
        Locale.objects.get_or_create(language_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0005_remove_wagtail_default_workflow_and_groups"),
        ("wagtailcore", "0083_workflowcontenttype"),
    ]

    operations = [migrations.RunPython(create_locales, migrations.RunPython.noop)]
