"""Consultation-room chat lines are sealed at rest (AES-GCM with the questionnaire keys), as chat messages are.
Lines of consults still open are sealed here; ended consults keep none (they move to the chat channel)."""

from django.db import migrations, models


def seal_existing(apps, schema_editor):
    from formbuilder import crypto

    ConsultMessage = apps.get_model("consult", "ConsultMessage")
    for message in ConsultMessage.objects.all().iterator():
        context = b"room-chat:%d:%d" % (message.organization_id, message.consult_id)
        message.sealed_text = crypto.seal(message.text.encode(), context=context)
        message.save(update_fields=["sealed_text"])


class Migration(migrations.Migration):
    dependencies = [("consult", "0010_email_kind_receipt")]

    operations = [
        migrations.AddField(model_name="consultmessage", name="sealed_text", field=models.BinaryField(default=b"")),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
        migrations.RemoveField(model_name="consultmessage", name="text"),
        migrations.AlterField(model_name="consultmessage", name="sealed_text", field=models.BinaryField()),
    ]
