"""The standard medical-history questionnaire for organisations that existed before questionnaires (F-FORM-2).

New organisations get it from formbuilder.apps (the organization_created signal).
"""

from django.db import migrations


def create_default_questionnaires(apps, schema_editor):
    from formbuilder.anamnesis import default_questionnaires_build

    Organization = apps.get_model("orgs", "Organization")
    Questionnaire = apps.get_model("formbuilder", "Questionnaire")
    QuestionnaireField = apps.get_model("formbuilder", "QuestionnaireField")
    db = schema_editor.connection.alias
    for organization_id in Organization.objects.using(db).values_list("pk", flat=True):
        default_questionnaires_build(organization_id, Questionnaire, QuestionnaireField, using=db)


class Migration(migrations.Migration):

    dependencies = [
        ("formbuilder", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_default_questionnaires, migrations.RunPython.noop),
    ]
